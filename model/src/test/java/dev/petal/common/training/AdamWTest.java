package dev.petal.common.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.tracker.Tracker;
import dev.petal.common.engine.PyTorchEngine;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fused update follows torch.optim.AdamW's formula, step for step, bias corrections included. */
class AdamWTest {
    private static final float LEARNING_RATE = 1e-2f;
    private static final float WEIGHT_DECAY = 0.05f;

    @Test
    void matchesTorchAdamWComputedInDoubles() {
        PyTorchEngine.get();
        Random random = new Random(3);
        float[] initial = gaussians(random, 64);
        ReferenceAdamW expected = new ReferenceAdamW(initial);
        AdamW adamW = new AdamW(Tracker.fixed(LEARNING_RATE), WEIGHT_DECAY);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray weight = manager.create(initial);
            for (int t = 1; t <= 5; t++) {
                float[] g = gradient(random, initial.length);
                adamW.update("p", weight, manager.create(g));
                expected.step(t, g);
            }
            expected.assertMatches(weight.toFloatArray());
            assertEquals(5, adamW.step());
        }
    }

    /**
     * {@link AdamW#minimize} takes the gradients from the loss itself: here a channels-last weight (as
     * ScriptedTraining lays out convolution weights) whose gradient autograd returns in the default
     * layout, so the update must pair each weight with its own gradient across layouts. A frozen
     * parameter is left alone.
     */
    @Test
    void minimizeDifferentiatesTheLossAndMatchesTorchAdamW() {
        PyTorchEngine.get();
        Random random = new Random(5);
        Shape shape = new Shape(4, 3, 2, 2);
        int n = (int) shape.size();
        AdamW adamW = new AdamW(Tracker.fixed(LEARNING_RATE), WEIGHT_DECAY);
        try (NDManager manager = NDManager.newBaseManager()) {
            // An NHWC array viewed as NCHW, then copied: an NCHW weight with channels-last strides.
            NDArray weight = manager.create(gaussians(random, n), new Shape(4, 2, 2, 3)).transpose(0, 3, 1, 2).duplicate();
            weight.setRequiresGradient(true);
            float[] initial = weight.toFloatArray();
            float[] frozenValues = gaussians(random, 8);
            NDArray frozen = manager.create(frozenValues);
            ReferenceAdamW expected = new ReferenceAdamW(initial);
            for (int t = 1; t <= 5; t++) {
                float[] g = gradient(random, n);
                NDArray loss;
                JniUtils.setGradMode(true);
                try {
                    loss = weight.mul(manager.create(g, shape)).sum().add(frozen.sum()); // d loss/d weight = g
                } finally {
                    JniUtils.setGradMode(false);
                }
                adamW.minimize(loss, List.of("weight"), List.of(weight)); // the frozen array is not a parameter
                expected.step(t, g);
            }
            expected.assertMatches(weight.toFloatArray());
            assertArrayEquals(frozenValues, frozen.toFloatArray());
            assertEquals(5, adamW.step());
        }
    }

    /** The kernel walks memory in order, so a weight in any other layout is refused, not updated out of order. */
    @Test
    void refusesAWeightThatIsNotDense() {
        PyTorchEngine.get();
        AdamW adamW = new AdamW(Tracker.fixed(LEARNING_RATE), WEIGHT_DECAY);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray transposed = manager.create(gaussians(new Random(7), 12), new Shape(3, 4)).transpose();
            float[] before = transposed.toFloatArray();
            EngineException e = assertThrows(EngineException.class,
                    () -> adamW.update("p", transposed, manager.ones(transposed.getShape())));
            assertTrue(e.getMessage().contains("dense in the default or channels-last layout"), e.getMessage());
            assertArrayEquals(before, transposed.toFloatArray());
        }
    }

    private static float[] gaussians(Random random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    /** Gaussian, with every seventh element tiny so that epsilon matters. */
    private static float[] gradient(Random random, int n) {
        float[] g = gaussians(random, n);
        for (int i = 0; i < n; i += 7) {
            g[i] *= 1e-4f;
        }
        return g;
    }

    /** torch.optim.AdamW's single-tensor formula, in doubles. */
    private static final class ReferenceAdamW {
        final double[] p;
        final double[] m;
        final double[] v;

        ReferenceAdamW(float[] initial) {
            p = new double[initial.length];
            for (int i = 0; i < p.length; i++) {
                p[i] = initial[i];
            }
            m = new double[p.length];
            v = new double[p.length];
        }

        void step(int t, float[] g) {
            double bias1 = 1 - Math.pow(AdamW.BETA1, t);
            double bias2 = 1 - Math.pow(AdamW.BETA2, t);
            for (int i = 0; i < p.length; i++) {
                p[i] -= LEARNING_RATE * WEIGHT_DECAY * p[i];
                m[i] = AdamW.BETA1 * m[i] + (1 - AdamW.BETA1) * g[i];
                v[i] = AdamW.BETA2 * v[i] + (1 - AdamW.BETA2) * g[i] * g[i];
                p[i] -= LEARNING_RATE / bias1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bias2) + AdamW.EPSILON);
            }
        }

        void assertMatches(float[] actual) {
            for (int i = 0; i < p.length; i++) {
                assertEquals(p[i], actual[i], 1e-5 * Math.max(1, Math.abs(p[i])), "element " + i);
            }
        }
    }
}
