package dev.petal.common.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import dev.petal.common.checkpoint.WeightsFile;
import dev.petal.common.checkpoint.SafeTensors;
import dev.petal.common.model.Architecture;
import dev.petal.common.image.Normalization;
import dev.petal.common.model.ModelParameters;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.Stem;
import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Saving weights + AdamW state after k steps and continuing gives the same weights as never stopping. */
class ResumeTest {
    private static final int SIZE = 32;
    private static final int BATCH = 4;

    @Test
    void resumedSessionContinuesStepForStep() {
        ModelSpec config = new ModelSpec(Architecture.RESNET18, List.of("a", "b", "c"), SIZE, Stem.SMALL, Normalization.IMAGENET);
        TrainingSettings settings = new TrainingSettings(1e-3f, 0.01f, 2, 4, 9);
        float[][] losses = new float[2][4];
        byte[] straightWeights;
        try (ModelSession straight = new ModelSession(config, settings, Device.cpu())) {
            for (int s = 0; s < 4; s++) {
                losses[0][s] = straight.trainStep(pixels(s), labels(s)).loss();
            }
            assertEquals(4, straight.optimizer().step());
            straightWeights = WeightsFile.toBytes(straight.parameters());
        }
        byte[] weights;
        byte[] state;
        try (ModelSession first = new ModelSession(config, settings, Device.cpu())) {
            for (int s = 0; s < 2; s++) {
                losses[1][s] = first.trainStep(pixels(s), labels(s)).loss();
            }
            weights = WeightsFile.toBytes(first.parameters());
            state = first.optimizer().state().toBytes();
        }
        byte[] resumedWeights;
        try (ModelSession resumed = new ModelSession(config, settings, Device.cpu(), params -> {
            try (ModelParameters saved = WeightsFile.read(config.plan(), params.manager(), new ByteArrayInputStream(weights))) {
                params.copyFrom(saved, false);
            }
        }, Precision.FP32)) {
            resumed.optimizer().restore(SafeTensors.read(state));
            for (int s = 2; s < 4; s++) {
                losses[1][s] = resumed.trainStep(pixels(s), labels(s)).loss();
            }
            assertEquals(4, resumed.optimizer().step());
            resumedWeights = WeightsFile.toBytes(resumed.parameters());
        }
        assertArrayEquals(losses[0], losses[1], 0f);
        assertArrayEquals(straightWeights, resumedWeights);
    }

    @Test
    void trainingIsDeterministicForASeed() {
        ModelSpec config = new ModelSpec(Architecture.RESNET18, List.of("a", "b", "c"), SIZE, Stem.SMALL, Normalization.IMAGENET);
        TrainingSettings settings = new TrainingSettings(1e-3f, 0.01f, 2, 4, 9);
        float[][] losses = new float[2][4];
        for (int r = 0; r < 2; r++) {
            try (ModelSession straight = new ModelSession(config, settings, Device.cpu())) {
                for (int s = 0; s < 4; s++) {
                    losses[r][s] = straight.trainStep(pixels(s), labels(s)).loss();
                }
            }
        }
        assertArrayEquals(losses[0], losses[1], 0f);
    }

    private static float[] pixels(int step) {
        Random random = new Random(step);
        float[] p = new float[BATCH * 3 * SIZE * SIZE];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) random.nextGaussian();
        }
        return p;
    }

    private static int[] labels(int step) {
        return new int[] {step % 3, (step + 1) % 3, (step + 2) % 3, 0};
    }
}
