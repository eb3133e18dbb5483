package dev.petal.common.training;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.petal.common.engine.InputStaging;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.model.ConvolutionRoute;
import dev.petal.common.model.KernelCheck;
import dev.petal.common.model.LayerPlan;
import dev.petal.common.model.ModelParameters;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.ServingProgram;
import dev.petal.common.model.TrainingProgram;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A network being trained: its {@link ModelParameters}, its {@link TrainingProgram} and its {@link AdamW};
 * one optimizer step per {@link #trainStep}. {@link #logits} scores with the serving program
 * ({@link ServingProgram}, BatchNorms folded, evaluation mode), so validation measures exactly what
 * inference will serve. Every step's arrays live in a sub-manager closed at the end of the step, so
 * memory stays flat however long the run.
 */
public final class ModelSession implements AutoCloseable {
    private final NDManager manager;
    private final ModelSpec spec;
    private final int trainingImageSize;
    private final Device device;
    private final ModelParameters params;
    private final AdamW adamW;
    private final TrainingProgram forward;
    private final InputStaging input = new InputStaging();
    private Map<LayerPlan.Shape, ConvolutionRoute> servingRoutes;

    /** Loss of the batch and how many of its predictions were right. */
    public record StepResult(float loss, int correct, int size) {}

    public ModelSession(ModelSpec spec, TrainingSettings settings, Device device) {
        this(spec, settings, device, null, Precision.FP32);
    }

    public ModelSession(ModelSpec spec, TrainingSettings settings, Device device, Consumer<ModelParameters> initialWeights,
            Precision precision) {
        this(spec, settings, device, initialWeights, precision, spec.imageSize());
    }

    /**
     * @param initialWeights called with the freshly initialised parameters before training starts, to
     *     overwrite them (a checkpoint to resume, torchvision weights to fine-tune); may be null
     * @param precision what the training forward and backward compute in (fp32 master weights either way)
     * @param trainingImageSize the height and width of the training batches; evaluation and serving use the
     *     spec's. Training smaller than serving is faster and, with random resized crops, scores better at the
     *     larger size (the crops enlarge objects, FixRes); the weights fit any size, the programs are per size.
     */
    public ModelSession(ModelSpec spec, TrainingSettings settings, Device device, Consumer<ModelParameters> initialWeights,
            Precision precision, int trainingImageSize) {
        PyTorchEngine.get().setRandomSeed((int) settings.seed());
        this.spec = spec;
        this.trainingImageSize = trainingImageSize;
        this.device = device;
        this.manager = NDManager.newBaseManager(device);
        try {
            LayerPlan plan = spec.withImageSize(trainingImageSize).plan();
            this.params = ModelParameters.initialised(plan, manager, settings.zeroInitResidual());
            if (initialWeights != null) {
                initialWeights.accept(params); // before the program re-lays the weights
            }
            params.requireGradients();
            this.adamW = new AdamW(settings.schedule(), settings.weightDecay());
            Map<LayerPlan.Shape, ConvolutionRoute> routes = KernelCheck.routes(plan, precision, KernelCheck.Use.TRAINING, device);
            this.forward = TrainingProgram.of(params, precision, routes, settings.labelSmoothing(), manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    public ModelSpec spec() {
        return spec;
    }

    public Precision precision() {
        return forward.precision();
    }

    /** The optimizer, whose state (moments, step) a checkpoint saves and a resume restores. */
    public AdamW optimizer() {
        return adamW;
    }

    /** The weights and running statistics, under torchvision's names. */
    public ModelParameters parameters() {
        return params;
    }

    public int imageSize() {
        return spec.imageSize();
    }

    /** The height and width {@link #trainStep} takes. */
    public int trainingImageSize() {
        return trainingImageSize;
    }

    /** One forward/backward/update on a batch of NCHW float pixels, {@link #trainingImageSize} square. */
    public StepResult trainStep(float[] pixels, int[] labels) {
        int batch = labels.length;
        try (NDManager step = manager.newSubManager()) {
            NDArray x = input.upload(step, pixels, new Shape(batch, 3, trainingImageSize, trainingImageSize));
            NDArray y = step.create(labels).toType(DataType.INT64, false);
            NDList out;
            boolean gradMode = JniUtils.isGradMode();
            JniUtils.setGradMode(true); // autograd records the forward
            try {
                out = forward.lossAndLogits(x, y);
            } finally {
                JniUtils.setGradMode(gradMode);
            }
            NDArray loss = out.get(0);
            NDArray logits = out.get(1);
            adamW.minimize(loss, params.trainableNames(), params.trainable());
            int correct = (int) logits.argMax(1).eq(y).sum().getLong();
            return new StepResult(loss.getFloat(), correct, batch);
        }
    }

    /**
     * A serving program of the current weights, for scoring many batches (a validation pass): close it
     * before the next training step, which changes the weights it folded.
     */
    public ServingProgram evaluation() {
        LayerPlan serving = spec.plan();
        if (servingRoutes == null) {
            servingRoutes = KernelCheck.routes(serving, Precision.FP32, KernelCheck.Use.SERVING, device);
        }
        return ServingProgram.of(params.laidOutFor(serving), Precision.FP32, servingRoutes, manager);
    }

    /** Evaluation-mode logits of {@code batch} images from {@code program}, row-major [batch][classes]. */
    public float[][] logits(ServingProgram program, float[] pixels, int batch) {
        try (NDManager step = manager.newSubManager()) {
            NDArray x = input.upload(step, pixels, new Shape(batch, 3, spec.imageSize(), spec.imageSize()));
            NDArray logits = program.logits(x);
            int classes = (int) logits.getShape().get(1);
            float[] flat = logits.toFloatArray();
            float[][] rows = new float[batch][classes];
            for (int i = 0; i < batch; i++) {
                System.arraycopy(flat, i * classes, rows[i], 0, classes);
            }
            return rows;
        }
    }

    /** {@link #logits(ServingProgram, float[], int)} with a program made for this one call. */
    public float[][] logits(float[] pixels, int batch) {
        try (ServingProgram program = evaluation()) {
            return logits(program, pixels, batch);
        }
    }

    @Override
    public void close() {
        forward.close();
        adamW.close();
        manager.close();
    }
}
