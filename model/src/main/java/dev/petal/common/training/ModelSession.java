package dev.petal.common.training;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.petal.common.engine.GradModeOff;
import dev.petal.common.engine.InputStaging;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.model.ConvolutionRoute;
import dev.petal.common.model.Int8Calibration;
import dev.petal.common.model.KernelCheck;
import dev.petal.common.model.LayerPlan;
import dev.petal.common.model.ModelParameters;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.ServingProgram;
import dev.petal.common.model.TrainingProgram;
import java.util.HashMap;
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
    private final Precision precision;
    private final float labelSmoothing;
    /** The training forward per batch size in pixels: {@link #trainingImageSize}'s, and others made on first use. */
    private final Map<Integer, TrainingProgram> forwards = new HashMap<>();
    private final InputStaging input = new InputStaging();
    private Map<LayerPlan.Shape, ConvolutionRoute> servingRoutes;
    /** The training forward at the serving size, made on the first {@link #recalibration}. */
    private TrainingProgram servingSizeStatistics;

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
            this.precision = precision;
            this.labelSmoothing = settings.labelSmoothing();
            forwardAt(trainingImageSize);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    public ModelSpec spec() {
        return spec;
    }

    public Precision precision() {
        return precision;
    }

    /** The training forward for batches {@code size} pixels square; the weights fit any size, the programs' kernels are per size. */
    private TrainingProgram forwardAt(int size) {
        TrainingProgram program = forwards.get(size);
        if (program == null) {
            LayerPlan plan = spec.withImageSize(size).plan();
            program = TrainingProgram.of(params, precision, KernelCheck.routes(plan, precision, KernelCheck.Use.TRAINING, device),
                    labelSmoothing, manager);
            forwards.put(size, program);
        }
        return program;
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
        return trainStep(pixels, labels, trainingImageSize);
    }

    /**
     * {@link #trainStep(float[], int[])} on images {@code size} pixels square: progressive resizing trains
     * the first epochs smaller (the first step at a new size compiles its program).
     */
    public StepResult trainStep(float[] pixels, int[] labels, int size) {
        int batch = labels.length;
        TrainingProgram forward = forwardAt(size);
        try (NDManager step = manager.newSubManager()) {
            NDArray x = input.upload(step, pixels, new Shape(batch, 3, size, size));
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
     * Starts re-estimating every BatchNorm's running statistics at the serving size ({@link #imageSize}):
     * each {@link Recalibration#add} takes a batch, and every image weighs the same (PyTorch's cumulative
     * average, {@code momentum=None}). Training smaller than serving leaves statistics of smaller objects;
     * FixRes (Touvron et al., 2019) corrects them so. The weights are unchanged and training (batch
     * statistics) is not affected; the next steps' running updates start from the new statistics.
     */
    public Recalibration recalibration() {
        if (servingSizeStatistics == null) {
            LayerPlan serving = spec.plan();
            servingSizeStatistics = TrainingProgram.forStatistics(params, precision,
                    KernelCheck.routes(serving, precision, KernelCheck.Use.TRAINING, device), manager);
        }
        return new Recalibration();
    }

    /** One pass of {@link #recalibration()}. */
    public final class Recalibration {
        private long images;

        private Recalibration() {}

        /** Adds the first {@code batch} images of {@code pixels} (NCHW, {@link #imageSize} square) to the statistics. */
        public void add(float[] pixels, int batch) {
            if (batch <= 0) {
                return;
            }
            images += batch;
            try (GradModeOff off = new GradModeOff(); NDManager step = manager.newSubManager()) {
                NDArray x = input.upload(step, pixels, new Shape(batch, 3, spec.imageSize(), spec.imageSize()));
                servingSizeStatistics.updateStatistics(x, (float) batch / images);
            }
        }

        public long images() {
            return images;
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

    /**
     * An int8 calibration of the weights as they are now, at the serving size, on ONNX Runtime's CPU kernels (its graph
     * holds a copy of them, so later steps do not change it).
     */
    public Int8Calibration int8Calibration() {
        return Int8Calibration.of(params.laidOutFor(spec.plan()), Runtime.getRuntime().availableProcessors());
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
        if (servingSizeStatistics != null) {
            servingSizeStatistics.close();
        }
        forwards.values().forEach(TrainingProgram::close);
        adamW.close();
        manager.close();
    }
}
