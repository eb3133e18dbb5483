package dev.petal.common.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.image.Normalization;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.training.ModelSession;
import dev.petal.common.training.TrainingSettings;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * The model actually learns: a ResNet-18 with the small stem separates four generated shapes, at 16 px (the
 * smallest image the network takes, so the test stays short) after 120 steps of 32 images.
 */
class LearningTest {
    private static final int SIZE = 16;
    private static final int BATCH = 32;

    /** The kernel self-check runs once per host (seconds to a minute); outside the timed training. */
    @BeforeAll
    static void checkKernels() {
        LayerPlan plan = new ModelSpec(Architecture.RESNET18, SyntheticShapes.LABELS, SIZE, Stem.SMALL, Normalization.IMAGENET).plan();
        for (Precision precision : List.of(Precision.FP32, Precision.BF16)) {
            KernelCheck.routes(plan, precision, KernelCheck.Use.TRAINING, Device.cpu());
            KernelCheck.routes(plan, Precision.FP32, KernelCheck.Use.SERVING, Device.cpu());
        }
    }

    /** bf16: mixed precision (fp32 master weights), which must learn as well. */
    @ParameterizedTest
    @ValueSource(strings = {"fp32", "bf16"})
    @Timeout(600) // a guard against a hang, not a speed test (./petal bench measures speed)
    void resnet18LearnsGeneratedShapesWellAboveChance(String precision) {
        Preprocessor pre = new Preprocessor(SIZE, Normalization.IMAGENET);
        SyntheticShapes train = new SyntheticShapes(SIZE, 1);
        SyntheticShapes heldOut = new SyntheticShapes(SIZE, 2);
        int steps = 120;
        TrainingSettings settings = new TrainingSettings(2e-3f, 1e-4f, 10, steps, 7, 0f, true, TrainingSettings.WARMUP_START_FACTOR);
        long start = System.nanoTime();
        try (ModelSession session = new ModelSession(
                new ModelSpec(Architecture.RESNET18, SyntheticShapes.LABELS, SIZE, Stem.SMALL, Normalization.IMAGENET),
                settings, Device.cpu(), null, Precision.parse(precision))) {
            for (int step = 0; step < steps; step++) {
                float[] pixels = new float[BATCH * pre.tensorLength()];
                int[] labels = new int[BATCH];
                for (int i = 0; i < BATCH; i++) {
                    SyntheticShapes.Sample s = train.next();
                    pre.toTensor(s.image(), pixels, i * pre.tensorLength());
                    labels[i] = s.label();
                }
                session.trainStep(pixels, labels);
            }
            int correct = 0;
            int total = 0;
            for (int b = 0; b < 16; b++) {
                float[] pixels = new float[BATCH * pre.tensorLength()];
                int[] labels = new int[BATCH];
                for (int i = 0; i < BATCH; i++) {
                    SyntheticShapes.Sample s = heldOut.next();
                    pre.toTensor(s.image(), pixels, i * pre.tensorLength());
                    labels[i] = s.label();
                }
                float[][] logits = session.logits(pixels, BATCH);
                for (int i = 0; i < BATCH; i++) {
                    int best = 0;
                    for (int c = 1; c < logits[i].length; c++) {
                        if (logits[i][c] > logits[i][best]) {
                            best = c;
                        }
                    }
                    correct += best == labels[i] ? 1 : 0;
                    total++;
                }
            }
            double accuracy = (double) correct / total;
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("learning test (%s): held-out accuracy %.3f on %d images after %d steps in %.1f s%n",
                    precision, accuracy, total, steps, seconds);
            assertTrue(accuracy >= 0.85, "held-out accuracy " + accuracy + " (chance is 0.25)");
        }
    }
}
