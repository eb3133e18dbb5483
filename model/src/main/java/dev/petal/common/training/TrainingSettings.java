package dev.petal.common.training;

/**
 * Optimizer, schedule and loss settings of a training session; {@link #seedRecipe(int)} is the tutorial's recipe.
 *
 * @param learningRate peak AdamW learning rate
 * @param weightDecay AdamW decoupled weight decay (PyTorch's default 0.01)
 * @param warmupSteps linear warm-up length in optimizer steps
 * @param totalSteps total optimizer steps of the run (for the cosine decay)
 * @param seed seed for weight initialisation and data order
 * @param labelSmoothing the cross-entropy's label smoothing (0: none)
 * @param zeroInitResidual start each residual block's last BatchNorm at zero, so the block starts as the identity
 * @param warmupStartFactor the warm-up starts at this fraction of the learning rate
 */
public record TrainingSettings(float learningRate, float weightDecay, int warmupSteps, int totalSteps, long seed,
                               float labelSmoothing, boolean zeroInitResidual, float warmupStartFactor) {
    public static final float WARMUP_START_FACTOR = 0.01f;

    /** Without label smoothing or zero-initialised residuals, warming up from 1% of the learning rate. */
    public TrainingSettings(float learningRate, float weightDecay, int warmupSteps, int totalSteps, long seed) {
        this(learningRate, weightDecay, warmupSteps, totalSteps, seed, 0f, false, WARMUP_START_FACTOR);
    }

    public static TrainingSettings seedRecipe(int totalSteps) {
        return new TrainingSettings(1e-4f, 0.01f, 20, totalSteps, 100);
    }

    public WarmupCosineSchedule schedule() {
        return new WarmupCosineSchedule(learningRate, warmupSteps, totalSteps, warmupStartFactor);
    }
}
