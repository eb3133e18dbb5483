package dev.petal.common.inference;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.petal.common.checkpoint.WeightsFile;
import dev.petal.common.engine.FreeMemory;
import dev.petal.common.engine.InputStaging;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.model.ActivationRanges;
import dev.petal.common.model.ConvolutionRoute;
import dev.petal.common.model.KernelCheck;
import dev.petal.common.model.LayerPlan;
import dev.petal.common.model.ModelParameters;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.OnnxServingProgram;
import dev.petal.common.model.ServingProgram;
import dev.petal.common.model.ServingRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loaded model ready to score: the network of a {@link ModelSpec} with its trained weights, compiled by
 * libtorch as one {@link ServingProgram} (BatchNorms folded, in the chosen {@link Precision}, with the
 * convolution routes {@link KernelCheck} found right on this host) and run without autograd, or, where the
 * {@link ServingRuntime} says so, the same folded network on ONNX Runtime ({@link OnnxServingProgram}), which also
 * serves int8 over the checkpoint's {@link ActivationRanges}. Each
 * libtorch batch gets its own NDManager, closed when the batch is done, so memory stays flat however many
 * batches run.
 *
 * <p>Thread-safe: batches are scored one at a time.
 */
public final class Classifier implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Classifier.class.getName());
    private final ModelSpec spec;
    private final InputStaging input = new InputStaging();
    private final ModelId id;
    private final NDManager manager;
    private final Preprocessor preprocessor;
    private final Device device;
    private ServingProgram program;
    /** Set instead of {@link #program} when ONNX Runtime serves. */
    private OnnxServingProgram onnx;

    private Classifier(ModelSpec spec, ModelId id, Device device) {
        PyTorchEngine.get();
        this.spec = spec;
        this.id = id;
        this.device = device;
        this.preprocessor = spec.preprocessor();
        this.manager = NDManager.newBaseManager(device);
    }

    /** Where the forward pass runs. */
    public Device device() {
        return device;
    }

    /**
     * Builds the network of {@code spec} on {@code device}, loads {@code weights} (safetensors, read as it
     * goes; not closed here) and compiles it to compute in {@code precision}.
     */
    public static Classifier load(ModelSpec spec, InputStream weights, ModelId id, Device device, Precision precision) {
        return load(spec, weights, id, device, precision, onlyRuntime(precision));
    }

    /**
     * As above, on {@code runtime}. {@link ServingRuntime#AUTO} serves on ONNX Runtime where it computes a batch
     * faster than libtorch on this CPU, timed on this network the first time its shape loads in this process (fp32
     * on a CPU only; libtorch otherwise). {@link ServingRuntime#ONNXRUNTIME} needs fp32 on a CPU.
     */
    public static Classifier load(ModelSpec spec, InputStream weights, ModelId id, Device device, Precision precision,
            ServingRuntime runtime) {
        return load(spec, weights, id, device, precision, runtime, null);
    }

    /**
     * As above; {@link Precision#INT8} quantizes each activation over its range in {@code ranges} (the checkpoint's
     * calibration) and runs on ONNX Runtime, on a CPU.
     */
    public static Classifier load(ModelSpec spec, InputStream weights, ModelId id, Device device, Precision precision,
            ServingRuntime runtime, ActivationRanges ranges) {
        ServingRuntime.refusal(runtime, precision, device).ifPresent(why -> {
            throw new IllegalArgumentException(why);
        });
        if (precision == Precision.INT8 && ranges == null) {
            throw new IllegalArgumentException("model " + id.name() + "/" + id.version() + " carries no int8 calibration (the trainer"
                    + " measures one for each validated epoch): serve it in fp32 or bf16, or a validated version");
        }
        boolean onnxApplies = ServingRuntime.onnxRuntimeServes(precision, device);
        Classifier classifier = new Classifier(spec, id, device);
        try {
            LayerPlan plan = spec.plan();
            // The loaded weights are closed once folded into the program's copy, so that copy can reuse their memory.
            try (ModelParameters params = WeightsFile.read(plan, classifier.manager, weights)) {
                // A shape timed before in this process needs only the program that won: a hot reload builds one.
                ServingRuntime chosen = precision == Precision.INT8 ? ServingRuntime.ONNXRUNTIME
                        : runtime != ServingRuntime.AUTO ? runtime
                        : onnxApplies ? FASTER.getOrDefault(plan, ServingRuntime.AUTO) : ServingRuntime.LIBTORCH;
                if (chosen != ServingRuntime.ONNXRUNTIME) {
                    Map<LayerPlan.Shape, ConvolutionRoute> routes = KernelCheck.routes(plan, precision, KernelCheck.Use.SERVING, device);
                    classifier.program = ServingProgram.of(params, precision, routes, classifier.manager);
                }
                if (chosen != ServingRuntime.LIBTORCH) {
                    classifier.onnx = OnnxServingProgram.of(params, precision == Precision.INT8 ? ranges : null,
                            Runtime.getRuntime().availableProcessors());
                }
            }
            if (classifier.program != null && classifier.onnx != null) {
                classifier.keepFaster();
            }
            FreeMemory.release(); // the load's copies of the weights are freed by now
            return classifier;
        } catch (RuntimeException e) {
            classifier.close();
            throw e;
        }
    }

    public static Classifier load(LoadedModel loaded, Device device, Precision precision) {
        return load(loaded, loaded.spec(), device, precision);
    }

    public static Classifier load(LoadedModel loaded, Device device, Precision precision, ServingRuntime runtime) {
        return load(loaded, loaded.spec(), device, precision, runtime);
    }

    /** {@code loaded}'s weights in the network of {@code spec}: the same layers, e.g. scoring at another image size. */
    public static Classifier load(LoadedModel loaded, ModelSpec spec, Device device, Precision precision) {
        return load(loaded, spec, device, precision, onlyRuntime(precision));
    }

    /** As above; int8 uses the calibration in {@code loaded}'s manifest. */
    public static Classifier load(LoadedModel loaded, ModelSpec spec, Device device, Precision precision, ServingRuntime runtime) {
        return load(loaded, spec, device, precision, runtime, loaded.manifest() == null ? null : loaded.manifest().activationRanges());
    }

    /** As above, with int8's calibration given: for a model whose manifest carries none, calibrated by the caller. */
    public static Classifier load(LoadedModel loaded, ModelSpec spec, Device device, Precision precision, ServingRuntime runtime,
            ActivationRanges ranges) {
        try (InputStream weights = loaded.openWeights()) {
            return load(spec, weights, loaded.id(), device, precision, runtime, ranges);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the weights in " + loaded.weights(), e);
        }
    }

    /** Where no runtime is asked for: libtorch, but int8, which only ONNX Runtime computes. */
    private static ServingRuntime onlyRuntime(Precision precision) {
        return ServingRuntime.libtorchServes(precision) ? ServingRuntime.LIBTORCH : ServingRuntime.ONNXRUNTIME;
    }

    /** Which runtime a network's shape measured faster on, in this process: the CPU does not change while it runs. */
    private static final Map<LayerPlan, ServingRuntime> FASTER = new ConcurrentHashMap<>();
    /** The batch {@link ServingRuntime#AUTO} times: a backlog's batches are larger, one image at a time is smaller. */
    static final int TIMED_BATCH = 8;
    /** Timed runs of each program, taken in turns. */
    private static final int TIMED_ROUNDS = 5;

    /**
     * Times both programs on this network's first load in the process, remembers the verdict, and closes the slower.
     * The runs alternate and each program keeps its fastest: a service's first load coincides with its own start and
     * often its neighbours', and a load that fades while one program is timed and then the other picked the slower one.
     */
    private void keepFaster() {
        float[] pixels = new float[TIMED_BATCH * preprocessor.tensorLength()];
        java.util.Arrays.fill(pixels, 0.5f);
        Runnable libtorchBatch = () -> libtorchProbabilities(pixels, TIMED_BATCH);
        Runnable onnxBatch = () -> onnx.probabilities(pixels, TIMED_BATCH);
        libtorchBatch.run(); // the first run allocates and plans
        onnxBatch.run();
        long libtorch = Long.MAX_VALUE;
        long onnxRuntime = Long.MAX_VALUE;
        for (int round = 0; round < TIMED_ROUNDS; round++) {
            libtorch = Math.min(libtorch, timed(libtorchBatch));
            onnxRuntime = Math.min(onnxRuntime, timed(onnxBatch));
        }
        ServingRuntime known = onnxRuntime < libtorch ? ServingRuntime.ONNXRUNTIME : ServingRuntime.LIBTORCH;
        FASTER.put(spec.plan(), known);
        String verdict = String.format(java.util.Locale.ROOT, "%.1f ms a batch of %d against %s's %.1f ms", millis(Math.min(libtorch, onnxRuntime)),
                TIMED_BATCH, known == ServingRuntime.ONNXRUNTIME ? "libtorch" : "ONNX Runtime", millis(Math.max(libtorch, onnxRuntime)));
        LOG.log(System.Logger.Level.INFO, "serving " + id.name() + "/" + id.version() + " on " + (known == ServingRuntime.ONNXRUNTIME ? "ONNX Runtime" : "libtorch")
                + ": " + verdict + " (" + spec.architecture().id() + " at " + spec.imageSize() + " px, fp32)");
        if (known == ServingRuntime.ONNXRUNTIME) {
            program.close();
            program = null;
        } else {
            onnx.close();
            onnx = null;
        }
    }

    private static long timed(Runnable batch) {
        long start = System.nanoTime();
        batch.run();
        return System.nanoTime() - start;
    }

    private static double millis(long nanos) {
        return nanos / 1e6;
    }

    public ModelSpec spec() {
        return spec;
    }

    public ModelId id() {
        return id;
    }

    public Precision precision() {
        return program == null ? onnx.precision() : program.precision();
    }

    /** The runtime that serves: {@link ServingRuntime#LIBTORCH} or {@link ServingRuntime#ONNXRUNTIME}. */
    public ServingRuntime runtime() {
        return onnx == null ? ServingRuntime.LIBTORCH : ServingRuntime.ONNXRUNTIME;
    }

    /** The preprocessing this model was trained with. */
    public Preprocessor preprocessor() {
        return preprocessor;
    }

    /** Runs one batch of zeros so the first real batch does not pay for lazy allocation. */
    public void warmUp(int batch) {
        topK(new float[batch * preprocessor.tensorLength()], batch, 1);
    }

    /**
     * Softmax probabilities of {@code batch} CHW images laid out one after another in {@code pixels},
     * as the {@code k} best labels per image, best first.
     */
    public synchronized List<List<Prediction.Scored>> topK(float[] pixels, int batch, int k) {
        int perImage = preprocessor.tensorLength();
        if (batch < 1 || pixels.length < batch * perImage) {
            throw new IllegalArgumentException("need " + batch + " x " + perImage + " floats, got " + pixels.length);
        }
        float[] probabilities = onnx != null ? onnx.probabilities(pixels, batch) : libtorchProbabilities(pixels, batch);
        int classes = spec.labels().size();
        List<List<Prediction.Scored>> out = new ArrayList<>(batch);
        int keep = Math.min(Math.max(k, 1), classes);
        for (int i = 0; i < batch; i++) {
            out.add(best(probabilities, i * classes, classes, keep));
        }
        return out;
    }

    private float[] libtorchProbabilities(float[] pixels, int batch) {
        int size = spec.imageSize();
        // Autograd mode is per thread in libtorch: switch it off on whichever thread scores.
        JniUtils.setGradMode(false);
        try (NDManager step = manager.newSubManager(device)) {
            NDArray x = input.upload(step, pixels, new Shape(batch, 3, size, size));
            NDArray logits = program.logits(x);
            x.close();
            NDArray softmax = logits.softmax(1);
            logits.close();
            return softmax.toFloatArray();
        }
    }

    private List<Prediction.Scored> best(float[] probabilities, int offset, int classes, int keep) {
        boolean[] taken = new boolean[classes];
        List<Prediction.Scored> top = new ArrayList<>(keep);
        for (int n = 0; n < keep; n++) {
            int arg = -1;
            for (int c = 0; c < classes; c++) {
                if (!taken[c] && (arg < 0 || probabilities[offset + c] > probabilities[offset + arg])) {
                    arg = c;
                }
            }
            taken[arg] = true;
            double score = Math.round(probabilities[offset + arg] * 1e6) / 1e6;
            top.add(new Prediction.Scored(spec.labels().get(arg), score));
        }
        return top;
    }

    @Override
    public void close() {
        if (program != null) {
            program.close();
        }
        if (onnx != null) {
            onnx.close();
        }
        manager.close();
        input.close();
        FreeMemory.release();
    }
}
