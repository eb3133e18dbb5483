package dev.petal.common.inference;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.petal.common.checkpoint.ModelSpec;
import dev.petal.common.checkpoint.ModelWeights;
import dev.petal.common.engine.InputStaging;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.model.FoldedResNet;
import dev.petal.common.model.Precision;
import dev.petal.common.model.ResNet;
import dev.petal.common.model.ScriptedResNet;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A loaded model ready to score: the ResNet of a {@link ModelSpec} with its trained weights, its
 * BatchNorms folded into the convolutions ({@link FoldedResNet}), compiled by libtorch as one program
 * in the chosen {@link Precision} ({@link ScriptedResNet}) and run without autograd. Each batch gets its own
 * NDManager, closed when the batch is done, so memory stays flat however many batches run.
 *
 * <p>Thread-safe: batches are scored one at a time.
 */
public final class Classifier implements AutoCloseable {
    private final ModelSpec spec;
    private final InputStaging input = new InputStaging();
    private final ModelId id;
    private final Model model;
    private final ResNet net;
    private final Preprocessor preprocessor;
    private final Device device;
    private ScriptedResNet scripted;

    private Classifier(ModelSpec spec, ModelId id, Device device) {
        PyTorchEngine.get();
        this.spec = spec;
        this.id = id;
        this.device = device;
        this.preprocessor = spec.preprocessor();
        this.net = new ResNet(spec.resNetConfig());
        this.model = Model.newInstance("petal-" + id.name() + "-" + id.version(), device, "PyTorch");
        model.setBlock(net);
    }

    /**
     * Builds the network of {@code spec} on {@code device}, loads {@code weights} (DJL parameter format,
     * read as it goes; not closed here) and compiles it to compute in {@code precision}.
     */
    public static Classifier load(ModelSpec spec, InputStream weights, ModelId id, Device device, Precision precision) {
        Classifier classifier = new Classifier(spec, id, device);
        try {
            int size = spec.imageSize();
            classifier.net.initialize(classifier.model.getNDManager(), DataType.FLOAT32, new Shape(1, 3, size, size));
            ModelWeights.load(classifier.net, classifier.model.getNDManager(), weights);
            try (FoldedResNet folded = FoldedResNet.of(classifier.net, classifier.model.getNDManager())) {
                // The unfolded weights are not used again: free them before the program stores its copy, so
                // that copy can reuse their memory (45 MB for ResNet-18; 35-50 MB less peak RSS at batch 1).
                for (Pair<String, Parameter> p : classifier.net.getParameters()) {
                    p.getValue().close();
                }
                // The program holds its own references to the weights it uses.
                classifier.scripted = ScriptedResNet.of(folded, precision, size, classifier.model.getNDManager());
            }
            return classifier;
        } catch (RuntimeException e) {
            classifier.close();
            throw e;
        }
    }

    public static Classifier load(LoadedModel loaded, Device device, Precision precision) {
        try (InputStream weights = loaded.openWeights()) {
            return load(loaded.spec(), weights, loaded.id(), device, precision);
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
        return scripted.precision();
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
        try (NDManager step = model.getNDManager().newSubManager(device)) {
            NDArray x = input.upload(step, pixels, new Shape(batch, 3, size, size));
            NDArray logits = scripted.logits(x);
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
        if (scripted != null) {
            scripted.close();
        }
        model.close();
    }
}
