package dev.petal.common.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import dev.petal.common.checkpoint.SafeTensors;
import dev.petal.common.checkpoint.WeightsFile;
import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.Stem;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link ModelSession#recalibration()} against the definition of the statistics, computed here in plain Java: the stem's
 * BatchNorm sees the stem convolution's output, so after a pass its running mean is that output's per-channel mean over
 * every image and position of the pass (each image weighing the same), and its running variance the image-weighted average
 * of each batch's unbiased variance (PyTorch's cumulative average, {@code momentum=None}).
 */
class RecalibrationTest {
    private static final int SERVING = 20;
    private static final int TRAINING = 16;

    @Test
    void theStemStatisticsBecomeTheImageWeightedAverageOfTheServingSizeBatches() {
        ModelSpec spec = new ModelSpec(Architecture.RESNET18, List.of("a", "b", "c"), SERVING, Stem.SMALL, Normalization.IMAGENET);
        TrainingSettings settings = new TrainingSettings(1e-3f, 0.01f, 2, 4, 9);
        int[] batches = {3, 5};
        float[][] pixels = {gaussian(1, batches[0] * 3 * SERVING * SERVING), gaussian(2, batches[1] * 3 * SERVING * SERVING)};
        try (ModelSession session = new ModelSession(spec, settings, Device.cpu(), null, Precision.FP32, TRAINING)) {
            // A training step at the smaller size moves the running statistics away from their start.
            session.trainStep(gaussian(3, 4 * 3 * TRAINING * TRAINING), new int[] {0, 1, 2, 0});
            ModelSession.Recalibration pass = session.recalibration();
            pass.add(pixels[0], batches[0]);
            pass.add(pixels[1], batches[1]);
            assertEquals(8, pass.images());

            SafeTensors weights = SafeTensors.read(WeightsFile.toBytes(session.parameters()));
            float[] kernel = weights.get("conv1.weight").values(); // [64][3][3][3]
            int channels = (int) weights.get("conv1.weight").shape()[0];
            double[] mean = new double[channels];
            double[] variance = new double[channels];
            int seen = 0;
            for (int b = 0; b < batches.length; b++) {
                double[][] out = stemConvolution(pixels[b], batches[b], kernel, channels); // [channel][image * position]
                seen += batches[b];
                double weight = (double) batches[b] / seen;
                for (int c = 0; c < channels; c++) {
                    double m = 0;
                    for (double v : out[c]) {
                        m += v;
                    }
                    m /= out[c].length;
                    double ss = 0;
                    for (double v : out[c]) {
                        ss += (v - m) * (v - m);
                    }
                    mean[c] += weight * (m - mean[c]);
                    variance[c] += weight * (ss / (out[c].length - 1) - variance[c]);
                }
            }
            assertArrayEquals(toFloat(mean), weights.get("bn1.running_mean").values(), 1e-4f);
            float[] runningVariance = weights.get("bn1.running_var").values();
            for (int c = 0; c < channels; c++) {
                assertEquals(variance[c], runningVariance[c], 1e-4 * variance[c], "channel " + c);
            }
        }
    }

    /** The small stem: a 3x3 convolution, stride 1, padding 1, no bias, over NCHW pixels. */
    private static double[][] stemConvolution(float[] x, int images, float[] kernel, int channels) {
        int n = SERVING;
        double[][] out = new double[channels][images * n * n];
        for (int i = 0; i < images; i++) {
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < n; y++) {
                    for (int z = 0; z < n; z++) {
                        double sum = 0;
                        for (int k = 0; k < 3; k++) {
                            for (int dy = 0; dy < 3; dy++) {
                                for (int dz = 0; dz < 3; dz++) {
                                    int yy = y + dy - 1;
                                    int zz = z + dz - 1;
                                    if (yy >= 0 && yy < n && zz >= 0 && zz < n) {
                                        sum += kernel[((c * 3 + k) * 3 + dy) * 3 + dz] * x[((i * 3 + k) * n + yy) * n + zz];
                                    }
                                }
                            }
                        }
                        out[c][(i * n + y) * n + z] = sum;
                    }
                }
            }
        }
        return out;
    }

    private static float[] gaussian(long seed, int length) {
        Random random = new Random(seed);
        float[] p = new float[length];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) random.nextGaussian();
        }
        return p;
    }

    private static float[] toFloat(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }
}
