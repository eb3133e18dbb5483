package dev.petal.common.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Stem;
import dev.petal.common.training.ModelSession;
import dev.petal.common.training.TrainingSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Weights leave and enter under torchvision's names (TorchvisionParityTest checks those names against torchvision's own). */
class TorchvisionWeightsTest {
    private static final int SIZE = 32;

    @Test
    void roundTripThroughSafetensorsGivesTheSameLogits() {
        float[] pixels = randomPixels(2);
        try (ModelSession source = session(Architecture.RESNET18, 4, 1);
                ModelSession fresh = session(Architecture.RESNET18, 4, 2)) {
            byte[] file = TorchvisionWeights.export(source.parameters(), Map.of("format", "pt")).toBytes();
            SafeTensors read = SafeTensors.read(file);
            assertEquals("pt", read.metadata().get("format"));
            float[][] before = fresh.logits(pixels, 2);
            TorchvisionWeights.LoadResult result = TorchvisionWeights.load(fresh.parameters(), read, false);
            assertEquals(102, result.loaded()); // torchvision: 122 keys = 102 float tensors + 20 num_batches_tracked
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
            SafeTensors weights = SafeTensors.read(TorchvisionWeights.export(source.parameters(), Map.of()).toBytes());
            float[] headBefore = target.parameters().get("fc.weight").toFloatArray();
            assertThrows(CheckpointIntegrityException.class, () -> TorchvisionWeights.load(target.parameters(), weights, false));
            assertArrayEquals(headBefore, target.parameters().get("fc.weight").toFloatArray(), 0f, "a refused file changes nothing");
            TorchvisionWeights.LoadResult result = TorchvisionWeights.load(target.parameters(), weights, true);
            assertTrue(result.headReplaced());
            assertEquals(100, result.loaded());
            assertArrayEquals(headBefore, target.parameters().get("fc.weight").toFloatArray(), 0f, "the new head keeps its initialisation");
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
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < classes; i++) {
            labels.add("class" + i);
        }
        return new ModelSession(new ModelSpec(arch, labels, SIZE, Stem.SMALL, Normalization.IMAGENET),
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
