package dev.petal.common.training;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import dev.petal.common.engine.InputStaging;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.model.Precision;
import dev.petal.common.model.ResNet;
import dev.petal.common.model.ResNetConfig;
import dev.petal.common.model.ScriptedTraining;
import java.util.function.Consumer;

/**
 * A ResNet with its {@link AdamW} trainer: one optimizer step per {@link #trainStep}, evaluation-mode logits
 * from {@link #logits}. Every step's arrays live in a sub-manager closed at the end of the step, so
 * memory stays flat however long the run.
 */
public final class ModelSession implements AutoCloseable {
    private final Model model;
    private final Trainer trainer;
    private final ResNet net;
    private final int imageSize;
    private final AdamW adamW;
    private final InputStaging input = new InputStaging();
    private final ScriptedTraining forward;

    /** Loss of the batch and how many of its predictions were right. */
    public record StepResult(float loss, int correct, int size) {}

    public ModelSession(ResNetConfig config, int imageSize, TrainingSettings settings, Device device) {
        this(config, imageSize, settings, device, null);
    }

    public ModelSession(ResNetConfig config, int imageSize, TrainingSettings settings, Device device,
            Consumer<ResNet> initialWeights) {
        this(config, imageSize, settings, device, initialWeights, Precision.FP32);
    }

    /**
     * @param initialWeights called with the freshly initialised net before training starts, to
     *     overwrite its parameters (a checkpoint to resume, torchvision weights to fine-tune); may be null
     * @param precision what the training forward and backward compute in (fp32 master weights either way)
     */
    public ModelSession(ResNetConfig config, int imageSize, TrainingSettings settings, Device device,
            Consumer<ResNet> initialWeights, Precision precision) {
        PyTorchEngine.get().setRandomSeed((int) settings.seed());
        this.imageSize = imageSize;
        this.net = new ResNet(config);
        this.model = Model.newInstance("resnet", device, "PyTorch");
        model.setBlock(net);
        Shape inputShape = new Shape(1, 3, imageSize, imageSize);
        if (initialWeights != null) {
            // Weights must be in place before the trainer caches the parameter arrays.
            net.initialize(model.getNDManager(), DataType.FLOAT32, inputShape);
            try {
                initialWeights.accept(net);
            } catch (RuntimeException e) {
                model.close(); // weights that do not load leave the network without arrays: nothing to keep
                throw e;
            }
        }
        this.adamW = new AdamW(settings.schedule(), settings.weightDecay());
        adamW.nameParameters(net.getParameters());
        DefaultTrainingConfig trainingConfig = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(adamW)
                .optDevices(new Device[] {device});
        this.trainer = model.newTrainer(trainingConfig);
        trainer.initialize(inputShape);
        // The training forward as one libtorch program (ScriptedTraining); evaluation stays op by op.
        this.forward = ScriptedTraining.of(net, precision, model.getNDManager());
    }

    public Precision precision() {
        return forward.precision();
    }

    /** The optimizer, whose state (moments, step) a checkpoint saves and a resume restores. */
    public AdamW optimizer() {
        return adamW;
    }

    public ResNet net() {
        return net;
    }

    public Model model() {
        return model;
    }

    public int imageSize() {
        return imageSize;
    }

    /** One forward/backward/update on a batch of NCHW float pixels. */
    public StepResult trainStep(float[] pixels, int[] labels) {
        int batch = labels.length;
        try (NDManager step = trainer.getManager().newSubManager()) {
            NDArray x = input.upload(step, pixels, new Shape(batch, 3, imageSize, imageSize));
            NDArray y = step.create(labels).toType(DataType.INT64, false);
            NDArray logits;
            NDArray loss;
            try (GradientCollector collector = trainer.newGradientCollector()) { // autograd records the forward
                logits = forward.logits(x);
                loss = trainer.getLoss().evaluate(new NDList(y), new NDList(logits));
            }
            adamW.minimize(loss, net.getParameters());
            int correct = (int) logits.argMax(1).eq(y).sum().getLong();
            return new StepResult(loss.getFloat(), correct, batch);
        }
    }

    /** Evaluation-mode logits (running BatchNorm statistics, no gradients), row-major [batch][classes]. */
    public float[][] logits(float[] pixels, int batch) {
        try (NDManager step = trainer.getManager().newSubManager()) {
            NDArray x = input.upload(step, pixels, new Shape(batch, 3, imageSize, imageSize));
            NDArray logits = trainer.evaluate(new NDList(x)).singletonOrThrow();
            int classes = (int) logits.getShape().get(1);
            float[] flat = logits.toFloatArray();
            float[][] rows = new float[batch][classes];
            for (int i = 0; i < batch; i++) {
                System.arraycopy(flat, i * classes, rows[i], 0, classes);
            }
            return rows;
        }
    }

    @Override
    public void close() {
        forward.close();
        trainer.close();
        model.close();
    }
}
