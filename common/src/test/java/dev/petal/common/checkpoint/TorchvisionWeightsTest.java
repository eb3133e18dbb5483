package dev.petal.common.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.util.Pair;
import ai.djl.nn.Parameter;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ResNetConfig;
import dev.petal.common.training.ModelSession;
import dev.petal.common.training.TrainingSettings;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TorchvisionWeightsTest {
    private static final int SIZE = 32;

    @Test
    void namesFollowTorchvisionForEveryBlockKind() {
        for (Architecture arch : new Architecture[] {Architecture.RESNET18, Architecture.RESNET50}) {
            try (ModelSession session = session(arch, 10, 1)) {
                Set<String> names = new HashSet<>();
                for (Pair<String, Parameter> p : session.net().getParameters()) {
                    names.add(TorchvisionNames.toTorchvision(p.getKey()));
                }
                assertEquals(session.net().getParameters().size(), names.size(), "mapping is one to one");
                assertTrue(names.containsAll(Set.of("conv1.weight", "bn1.running_mean", "fc.weight", "fc.bias",
                        "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var", "layer4.1.bn2.weight")),
                        names.toString());
                if (arch == Architecture.RESNET50) {
                    assertTrue(names.containsAll(Set.of("layer1.0.conv3.weight", "layer1.0.bn3.bias",
                            "layer1.0.downsample.0.weight", "layer3.5.conv2.weight")), names.toString());
                    assertEquals(267, names.size()); // torchvision: 320 keys = 267 float tensors + 53 num_batches_tracked
                } else {
                    assertEquals(102, names.size()); // torchvision: 122 keys = 102 float tensors + 20 num_batches_tracked
                }
            }
        }
    }

    @Test
    void roundTripThroughSafetensorsGivesTheSameLogits() {
        float[] pixels = randomPixels(2);
        try (ModelSession source = session(Architecture.RESNET18, 4, 1);
                ModelSession fresh = session(Architecture.RESNET18, 4, 2)) {
            byte[] file = TorchvisionWeights.export(source.net(), Map.of("format", "pt")).toBytes();
            SafeTensors read = SafeTensors.read(file);
            assertEquals("pt", read.metadata().get("format"));
            float[][] before = fresh.logits(pixels, 2);
            TorchvisionWeights.LoadResult result = TorchvisionWeights.load(fresh.net(), read, false);
            assertEquals(102, result.loaded());
            float[][] expected = source.logits(pixels, 2);
            float[][] actual = fresh.logits(pixels, 2);
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(expected[i], actual[i], 1e-5f);
                assertTrue(Math.abs(before[i][0] - expected[i][0]) > 1e-4, "different seeds start different");
            }
        }
    }

    @Test
    void aHeadOfAnotherSizeIsReplacedOnlyWhenAllowed() {
        try (ModelSession source = session(Architecture.RESNET18, 10, 1);
                ModelSession target = session(Architecture.RESNET18, 4, 2)) {
            SafeTensors weights = SafeTensors.read(TorchvisionWeights.export(source.net(), Map.of()).toBytes());
            assertThrows(CheckpointIntegrityException.class, () -> TorchvisionWeights.load(target.net(), weights, false));
            TorchvisionWeights.LoadResult result = TorchvisionWeights.load(target.net(), weights, true);
            assertTrue(result.headReplaced());
            assertEquals(100, result.loaded());
        }
    }

    @Test
    void malformedFilesAreRefusedClearly() {
        assertThrows(CheckpointIntegrityException.class, () -> SafeTensors.read(new byte[] {1, 2, 3}));
        byte[] lies = new byte[16];
        lies[0] = 100; // header longer than the file
        assertThrows(CheckpointIntegrityException.class, () -> SafeTensors.read(lies));
        assertEquals(1.0f, SafeTensors.halfToFloat((short) 0x3C00));
        assertEquals(-2.0f, SafeTensors.halfToFloat((short) 0xC000));
    }

    static ModelSession session(Architecture arch, int classes, long seed) {
        return new ModelSession(new ResNetConfig(arch, classes, true, false), SIZE,
                new TrainingSettings(1e-3f, 0.01f, 2, 10, seed), Device.cpu());
    }

    static float[] randomPixels(int batch) {
        Random random = new Random(5);
        float[] pixels = new float[batch * 3 * SIZE * SIZE];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextGaussian();
        }
        return pixels;
    }
}
