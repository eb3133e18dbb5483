package dev.petal.common.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.tracker.Tracker;
import dev.petal.common.engine.PyTorchEngine;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fused update follows torch.optim.AdamW's formula, step for step, bias corrections included. */
class AdamWTest {

    @Test
    void matchesTorchAdamWComputedInDoubles() {
        PyTorchEngine.get();
        float lr = 1e-2f;
        float weightDecay = 0.05f;
        int n = 64;
        Random random = new Random(3);
        double[] p = new double[n];
        float[] initial = new float[n];
        for (int i = 0; i < n; i++) {
            initial[i] = (float) random.nextGaussian();
            p[i] = initial[i];
        }
        double[] m = new double[n];
        double[] v = new double[n];
        AdamW adamW = new AdamW(Tracker.fixed(lr), weightDecay);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray weight = manager.create(initial);
            for (int t = 1; t <= 5; t++) {
                float[] g = new float[n];
                for (int i = 0; i < n; i++) {
                    g[i] = (float) random.nextGaussian() * (i % 7 == 0 ? 1e-4f : 1f);
                }
                adamW.update("p", weight, manager.create(g));
                double bias1 = 1 - Math.pow(AdamW.BETA1, t);
                double bias2 = 1 - Math.pow(AdamW.BETA2, t);
                for (int i = 0; i < n; i++) {
                    p[i] -= lr * weightDecay * p[i];
                    m[i] = AdamW.BETA1 * m[i] + (1 - AdamW.BETA1) * g[i];
                    v[i] = AdamW.BETA2 * v[i] + (1 - AdamW.BETA2) * g[i] * g[i];
                    p[i] -= lr / bias1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bias2) + AdamW.EPSILON);
                }
            }
            float[] actual = weight.toFloatArray();
            for (int i = 0; i < n; i++) {
                assertEquals(p[i], actual[i], 1e-5 * Math.max(1, Math.abs(p[i])), "element " + i);
            }
            assertEquals(5, adamW.step());
        }
    }
}
