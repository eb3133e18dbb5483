package dev.petal.common.training;

/**
 * Optimizer and schedule settings; {@link #seedRecipe(int)} is the tutorial's recipe.
 *
 * @param learningRate peak AdamW learning rate
 * @param weightDecay AdamW decoupled weight decay (PyTorch's default 0.01)
 * @param warmupSteps linear warm-up length in optimizer steps
 * @param totalSteps total optimizer steps of the run (for the cosine decay)
 * @param seed seed for weight initialisation and data order
 */
public record TrainingSettings(float learningRate, float weightDecay, int warmupSteps, int totalSteps, long seed) {
    public static final float WARMUP_START_FACTOR = 0.01f;

    public static TrainingSettings seedRecipe(int totalSteps) {
        return new TrainingSettings(1e-4f, 0.01f, 20, totalSteps, 100);
    }

    public WarmupCosineSchedule schedule() {
        return new WarmupCosineSchedule(learningRate, warmupSteps, totalSteps, WARMUP_START_FACTOR);
    }
}
