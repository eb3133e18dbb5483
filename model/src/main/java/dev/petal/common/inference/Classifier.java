package dev.petal.common.inference;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.petal.common.checkpoint.WeightsFile;
import dev.petal.common.engine.InputStaging;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.model.ConvolutionRoute;
import dev.petal.common.model.KernelCheck;
import dev.petal.common.model.LayerPlan;
import dev.petal.common.model.ModelParameters;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.ServingProgram;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A loaded model ready to score: the network of a {@link ModelSpec} with its trained weights, compiled by
 * libtorch as one {@link ServingProgram} (BatchNorms folded, in the chosen {@link Precision}, with the
 * convolution routes {@link KernelCheck} found right on this host) and run without autograd. Each batch
 * gets its own NDManager, closed when the batch is done, so memory stays flat however many batches run.
 *
 * <p>Thread-safe: batches are scored one at a time.
 */
public final class Classifier implements AutoCloseable {
    private final ModelSpec spec;
    private final InputStaging input = new InputStaging();
    private final ModelId id;
    private final NDManager manager;
    private final Preprocessor preprocessor;
    private final Device device;
    private ServingProgram program;

    private Classifier(ModelSpec spec, ModelId id, Device device) {
        PyTorchEngine.get();
        this.spec = spec;
        this.id = id;
        this.device = device;
        this.preprocessor = spec.preprocessor();
        this.manager = NDManager.newBaseManager(device);
    }

    /**
     * Builds the network of {@code spec} on {@code device}, loads {@code weights} (safetensors, read as it
     * goes; not closed here) and compiles it to compute in {@code precision}.
     */
    public static Classifier load(ModelSpec spec, InputStream weights, ModelId id, Device device, Precision precision) {
        Classifier classifier = new Classifier(spec, id, device);
        try {
            LayerPlan plan = spec.plan();
            Map<LayerPlan.Shape, ConvolutionRoute> routes = KernelCheck.routes(plan, precision, KernelCheck.Use.SERVING, device);
            // The loaded weights are closed once folded into the program's copy, so that copy can reuse their memory.
            try (ModelParameters params = WeightsFile.read(plan, classifier.manager, weights)) {
                classifier.program = ServingProgram.of(params, precision, routes, classifier.manager);
            }
            return classifier;
        } catch (RuntimeException e) {
            classifier.close();
            throw e;
        }
    }

    public static Classifier load(LoadedModel loaded, Device device, Precision precision) {
        return load(loaded, loaded.spec(), device, precision);
    }

    /** {@code loaded}'s weights in the network of {@code spec}: the same layers, e.g. scoring at another image size. */
    public static Classifier load(LoadedModel loaded, ModelSpec spec, Device device, Precision precision) {
        try (InputStream weights = loaded.openWeights()) {
            return load(spec, weights, loaded.id(), device, precision);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the weights in " + loaded.weights(), e);
        }
    }

    public ModelSpec spec() {
        return spec;
    }

    public ModelId id() {
        return id;
    }

    public Precision precision() {
        return program.precision();
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
        int size = spec.imageSize();
        int perImage = preprocessor.tensorLength();
        if (batch < 1 || pixels.length < batch * perImage) {
            throw new IllegalArgumentException("need " + batch + " x " + perImage + " floats, got " + pixels.length);
        }
        // Autograd mode is per thread in libtorch: switch it off on whichever thread scores.
        JniUtils.setGradMode(false);
        float[] probabilities;
        int classes = spec.labels().size();
        try (NDManager step = manager.newSubManager(device)) {
            NDArray x = input.upload(step, pixels, new Shape(batch, 3, size, size));
            NDArray logits = program.logits(x);
            x.close();
            NDArray softmax = logits.softmax(1);
            logits.close();
            probabilities = softmax.toFloatArray();
        }
        List<List<Prediction.Scored>> out = new ArrayList<>(batch);
        int keep = Math.min(Math.max(k, 1), classes);
        for (int i = 0; i < batch; i++) {
            out.add(best(probabilities, i * classes, classes, keep));
        }
        return out;
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
        manager.close();
    }
}
