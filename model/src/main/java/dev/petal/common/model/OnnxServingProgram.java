package dev.petal.common.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.petal.common.engine.DirectBuffers;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Set;

/**
 * A network's evaluation-mode forward on ONNX Runtime's CPU kernels: the {@link OnnxGraph} Petal writes from its
 * weights, with every graph optimisation, {@code threads} intra-op threads and none between ops (a ResNet is one
 * chain). Training stays on libtorch; this is the other way to serve the same weights in fp32, chosen where it
 * measures faster ({@link ServingRuntime}), and the only way to serve them in {@link Precision#INT8}, over the
 * network's {@link ActivationRanges}.
 *
 * <p>Thread-safe as ONNX Runtime's sessions are; callers score one batch at a time.
 */
public final class OnnxServingProgram implements AutoCloseable {
    private final OrtEnvironment environment;
    private final OrtSession session;
    private final int classes;
    private final Precision precision;
    private final long[] imageShape;
    /** The input batch, reused: grown to the largest batch seen, handed on at {@link #close} ({@link DirectBuffers}). */
    private ByteBuffer staging;

    private OnnxServingProgram(OrtEnvironment environment, OrtSession session, LayerPlan plan, Precision precision) {
        this.environment = environment;
        this.session = session;
        this.precision = precision;
        this.classes = plan.head().classes();
        this.imageShape = new long[] {3, plan.imageSize(), plan.imageSize()};
    }

    /** Writes {@code params}' graph in fp32 and opens it in ONNX Runtime; {@code params} can be closed after. */
    public static OnnxServingProgram of(ModelParameters params, int threads) {
        return of(params, null, threads);
    }

    /** As above, in int8 over {@code ranges}; fp32 where {@code ranges} is null. */
    public static OnnxServingProgram of(ModelParameters params, ActivationRanges ranges, int threads) {
        return of(params, ranges, ranges == null ? null : OnnxGraph.WeightStorage.forThisCpu(), threads);
    }

    /** As above, int8 weights stored as {@code storage} (unused in fp32). */
    static OnnxServingProgram of(ModelParameters params, ActivationRanges ranges, OnnxGraph.WeightStorage storage, int threads) {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = options(threads)) {
            OnnxGraph.Reader<OrtSession> open = model -> environment.createSession(model, options);
            OrtSession session = ranges == null ? OnnxGraph.of(params, open) : OnnxGraph.quantized(params, ranges, storage, open);
            return new OnnxServingProgram(environment, session, params.plan(), ranges == null ? Precision.FP32 : Precision.INT8);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime cannot open the model's graph: " + e.getMessage(), e);
        }
    }

    /** Every graph optimisation (the int8 fusions among them), {@code threads} threads in each op, ops one after another. */
    static OrtSession.SessionOptions options(int threads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        options.setIntraOpNumThreads(Math.max(1, threads));
        options.setInterOpNumThreads(1);
        // Idle intra-op threads block instead of spinning: a service decodes the next batch between runs, and spinning
        // threads would take its cores (docs/performance.md).
        options.addConfigEntry("session.intra_op.allow_spinning", "0");
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        return options;
    }

    public Precision precision() {
        return precision;
    }

    /** The logits of {@code batch} NCHW images laid out one after another in {@code pixels}, row by row. */
    public float[] logits(float[] pixels, int batch) {
        return run(pixels, batch, OnnxGraph.LOGITS);
    }

    /** As {@link #logits}, through a softmax over the classes. */
    public float[] probabilities(float[] pixels, int batch) {
        return run(pixels, batch, OnnxGraph.PROBABILITIES);
    }

    private synchronized float[] run(float[] pixels, int batch, String output) {
        long[] shape = {batch, imageShape[0], imageShape[1], imageShape[2]};
        int length = (int) (batch * imageShape[0] * imageShape[1] * imageShape[2]);
        // ONNX Runtime reads a direct buffer in place; a heap array it would copy into a new direct one per batch.
        staging = DirectBuffers.atLeast(staging, length * Float.BYTES);
        FloatBuffer in = staging.asFloatBuffer().put(pixels, 0, length).flip();
        try (OnnxTensor x = OnnxTensor.createTensor(environment, in, shape);
             OrtSession.Result result = session.run(Map.of(OnnxGraph.INPUT, x), Set.of(output))) {
            FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
            float[] values = new float[batch * classes];
            out.get(values);
            return values;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on a batch of " + batch + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        DirectBuffers.give(staging);
        staging = null;
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the ONNX Runtime session: " + e.getMessage(), e);
        }
    }
}
