package dev.petal.common.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.djl.ndarray.NDManager;
import dev.petal.common.checkpoint.WeightsFile;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.inference.LoadedModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Measures a network's {@link ActivationRanges} for {@link Precision#INT8}: the fp32 network runs on ONNX Runtime
 * ({@link OnnxGraph#probing}) over calibration images, and each site keeps the smallest and largest value it took.
 * The trainer calibrates on the held-out split, as served (no augmentation).
 */
public final class Int8Calibration implements AutoCloseable {
    /**
     * Images a calibration sees: enough for every site's extremes to settle, few enough to keep a validated epoch short.
     * More images only widen the ranges (coarser levels).
     */
    public static final int IMAGES = 256;
    /** Images per run: every site's tensor comes back at once, several MB an image at 224 px. */
    private static final int CHUNK = 8;
    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final List<String> sites;
    private final long[] imageShape;
    private final ActivationRanges.Builder ranges = new ActivationRanges.Builder();
    private long images;

    private Int8Calibration(OrtSession session, LayerPlan plan) {
        this.session = session;
        this.sites = OnnxGraph.sites(plan);
        this.imageShape = new long[] {3, plan.imageSize(), plan.imageSize()};
    }

    /** A calibration of {@code params}' network (laid out at its serving size); {@code params} can be closed after. */
    public static Int8Calibration of(ModelParameters params, int threads) {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = OnnxServingProgram.options(threads)) {
            return new Int8Calibration(OnnxGraph.probing(params, model -> environment.createSession(model, options)), params.plan());
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime cannot open the calibration graph: " + e.getMessage(), e);
        }
    }

    /** A calibration of {@code loaded}'s weights in the network of {@code spec} (its serving size). */
    public static Int8Calibration of(LoadedModel loaded, ModelSpec spec, int threads) {
        try (NDManager manager = PyTorchEngine.get().newBaseManager();
             InputStream weights = loaded.openWeights();
             ModelParameters params = WeightsFile.read(spec.plan(), manager, weights)) {
            return of(params, threads);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the weights in " + loaded.weights(), e);
        }
    }

    /**
     * The ranges of {@code loaded}'s weights in the network of {@code spec} over the first {@code images} NCHW images
     * in {@code pixels}, on every core: a calibration made, used and closed in one go.
     */
    public static ActivationRanges measure(LoadedModel loaded, ModelSpec spec, float[] pixels, int images) {
        try (Int8Calibration calibration = of(loaded, spec, Runtime.getRuntime().availableProcessors())) {
            calibration.add(pixels, images);
            return calibration.ranges();
        }
    }

    /** Widens the ranges by {@code batch} NCHW images laid out one after another in {@code pixels}. */
    public void add(float[] pixels, int batch) {
        int perImage = (int) (imageShape[0] * imageShape[1] * imageShape[2]);
        for (int from = 0; from < batch; from += CHUNK) {
            int n = Math.min(CHUNK, batch - from);
            FloatBuffer in = FloatBuffer.wrap(pixels, from * perImage, n * perImage).slice();
            widen(ActivationRanges.INPUT, in.duplicate());
            try (OnnxTensor x = OnnxTensor.createTensor(environment, in, new long[] {n, imageShape[0], imageShape[1], imageShape[2]});
                 OrtSession.Result result = session.run(Map.of(OnnxGraph.INPUT, x), new LinkedHashSet<>(sites))) {
                for (Map.Entry<String, OnnxValue> output : result) {
                    widen(output.getKey(), ((OnnxTensor) output.getValue()).getFloatBuffer());
                }
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime failed calibrating on " + n + " images: " + e.getMessage(), e);
            }
        }
        images += batch;
    }

    private void widen(String site, FloatBuffer values) {
        float low = Float.POSITIVE_INFINITY;
        float high = Float.NEGATIVE_INFINITY;
        while (values.hasRemaining()) {
            float v = values.get();
            low = Math.min(low, v);
            high = Math.max(high, v);
        }
        ranges.widen(site, low, high);
    }

    /** Images seen so far. */
    public long images() {
        return images;
    }

    /** The ranges seen so far; an {@link IllegalStateException} before any image. */
    public ActivationRanges ranges() {
        if (images == 0) {
            throw new IllegalStateException("no calibration images were given");
        }
        return ranges.build();
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the calibration session: " + e.getMessage(), e);
        }
    }
}
