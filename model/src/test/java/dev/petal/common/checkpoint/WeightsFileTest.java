package dev.petal.common.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.LayerPlan;
import dev.petal.common.model.ModelParameters;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Stem;
import dev.petal.common.training.ModelSession;
import dev.petal.common.training.TrainingSettings;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightsFileTest {
    static final ModelSpec SPEC = new ModelSpec(Architecture.RESNET18, List.of("a", "b", "c", "d"), 32, Stem.SMALL, Normalization.IMAGENET);

    /** A session trained one step, so weights are channels-last and the statistics moved. */
    static ModelSession trained(long seed) {
        ModelSession session = new ModelSession(SPEC, new TrainingSettings(1e-3f, 0.01f, 2, 10, seed), Device.cpu());
        float[] pixels = new float[2 * 3 * 32 * 32];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) Math.sin(i * 0.01 + seed);
        }
        session.trainStep(pixels, new int[] {0, 3});
        return session;
    }

    @Test
    void weightsStreamedFromAFileRestoreEveryParameterBitForBit(@TempDir Path dir) throws Exception {
        try (ModelSession source = trained(1); ModelSession target = trained(2)) {
            byte[] bytes = WeightsFile.toBytes(source.parameters());
            Path file = dir.resolve("weights.safetensors");
            try (OutputStream out = Files.newOutputStream(file)) {
                WeightsFile.write(source.parameters(), out);
            }
            assertArrayEquals(bytes, Files.readAllBytes(file), "the file and the array hold the same bytes");
            assertFalse(same(source.parameters(), target.parameters()), "different seeds start apart");
            try (var in = Files.newInputStream(file);
                 ModelParameters loaded = WeightsFile.read(SPEC.plan(), target.parameters().manager(), in)) {
                assertTrue(same(source.parameters(), loaded), "every parameter and running statistic, bit for bit");
                assertArrayEquals(bytes, WeightsFile.toBytes(loaded), "and it writes back the same bytes");
            }
        }
    }

    /**
     * The file is the safetensors PyTorch reads: each tensor's values in row-major (NCHW) order, whatever
     * layout training left them in; checked against the array read element by element.
     */
    @Test
    void aChannelsLastWeightIsWrittenInTorchvisionsOrder() {
        try (ModelSession session = trained(3)) {
            SafeTensors file = SafeTensors.read(WeightsFile.toBytes(session.parameters()));
            for (Map.Entry<String, ai.djl.ndarray.NDArray> e : session.parameters().arrays().entrySet()) {
                assertArrayEquals(e.getValue().toFloatArray(), file.get(e.getKey()).values(), 0f, e.getKey());
            }
            float[] stem = file.get("conv1.weight").values();
            // conv1.weight[0, 1, 2, 0] in NCHW order is element ((0 * 3 + 1) * 3 + 2) * 3 + 0.
            try (var index = session.parameters().get("conv1.weight").get("0,1,2,0")) {
                assertEquals(index.getFloat(), stem[((0 * 3 + 1) * 3 + 2) * 3], 0f);
            }
        }
    }

    @Test
    void truncatedForeignOrMisfitBytesAreAnIntegrityError() {
        byte[] bytes;
        try (ModelSession source = trained(1)) {
            bytes = WeightsFile.toBytes(source.parameters());
        }
        byte[] truncated = Arrays.copyOf(bytes, bytes.length - 100);
        byte[] foreign = new byte[4096];
        Arrays.fill(foreign, (byte) 7);
        LayerPlan otherLabels = SPEC.withLabels(List.of("a", "b")).plan();
        try (NDManager manager = PyTorchEngine.get().newBaseManager()) {
            for (byte[] bad : new byte[][] {truncated, foreign}) {
                assertThrows(CheckpointIntegrityException.class, () -> WeightsFile.read(SPEC.plan(), manager, new ByteArrayInputStream(bad)));
            }
            CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class,
                    () -> WeightsFile.read(otherLabels, manager, new ByteArrayInputStream(bytes)));
            assertTrue(e.getMessage().contains("fc.weight"), e.getMessage());
        }
    }

    private static boolean same(ModelParameters a, ModelParameters b) {
        assertEquals(a.arrays().keySet(), b.arrays().keySet());
        for (String name : a.arrays().keySet()) {
            if (!Arrays.equals(a.get(name).toFloatArray(), b.get(name).toFloatArray())) {
                return false;
            }
        }
        return true;
    }
}
