package dev.petal.common.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.training.ModelSession;
import dev.petal.common.training.TrainingSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A real torchvision resnet18(num_classes=5) state_dict, saved by torch.save: every tensor reads with
 * PyTorch's shape and values, and the whole file loads into Petal's ResNet-18. The file is 45 MB, too
 * big to commit: {@code make_pth_fixtures.py --resnet18 DIR} writes it with PyTorch's per-tensor shapes
 * and sums, then {@code -Dpetal.test.torchvision-pth=DIR} runs this test.
 */
@EnabledIfSystemProperty(named = "petal.test.torchvision-pth", matches = ".+")
class TorchvisionPthTest {

    @Test
    void everyTensorOfTorchvisionsOwnFileReadsAsPyTorchHasIt() throws Exception {
        Path dir = Path.of(System.getProperty("petal.test.torchvision-pth"));
        SafeTensors weights = TorchvisionWeightsFile.read(dir.resolve("resnet18_5.pth"));
        List<String> lines = Files.readAllLines(dir.resolve("resnet18_5.tensors"));
        assertEquals(122, lines.size(), "torchvision's 102 float tensors and 20 num_batches_tracked");
        assertEquals(lines.size(), weights.tensors().size());
        for (String line : lines) { // name dtype shape sum abs-sum, as the script writes them
            String[] f = line.split(" ");
            SafeTensors.Tensor tensor = weights.get(f[0]);
            assertEquals(f[1], tensor.dtype(), f[0]);
            long[] shape = f[2].equals("-") ? new long[0] : Arrays.stream(f[2].split(",")).mapToLong(Long::parseLong).toArray();
            assertArrayEquals(shape, tensor.shape(), f[0]);
            if (tensor.values() != null) {
                double sum = 0;
                double abs = 0;
                for (float v : tensor.values()) {
                    sum += v;
                    abs += Math.abs(v);
                }
                double tolerance = 1e-9 * Math.max(1, Double.parseDouble(f[4]));
                assertEquals(Double.parseDouble(f[3]), sum, tolerance, f[0]);
                assertEquals(Double.parseDouble(f[4]), abs, tolerance, f[0]);
            }
        }
        TorchvisionWeights.LoadResult[] result = new TorchvisionWeights.LoadResult[1];
        try (ModelSession session = new ModelSession(ModelSpec.of(Architecture.RESNET18, List.of("a", "b", "c", "d", "e"), 64),
                new TrainingSettings(1e-3f, 0.01f, 2, 10, 1), Device.cpu(),
                params -> result[0] = TorchvisionWeights.load(params, weights, false), Precision.FP32)) {
            assertEquals(102, result[0].loaded());
            assertEquals(List.of(), result[0].unusedKeys());
        }
    }
}
