package dev.petal.common.training;

import ai.djl.training.tracker.Tracker;

/**
 * The seed recipe's learning-rate schedule, as PyTorch's {@code SequentialLR(LinearLR, CosineAnnealingLR)}:
 * a linear warm-up from {@code startFactor x lr} to {@code lr} over {@code warmupSteps}, then cosine
 * decay to zero over the remaining steps.
 */
public final class WarmupCosineSchedule implements Tracker {
    private final float baseLr;
    private final int warmupSteps;
    private final int totalSteps;
    private final float startFactor;

    public WarmupCosineSchedule(float baseLr, int warmupSteps, int totalSteps, float startFactor) {
        this.baseLr = baseLr;
        this.warmupSteps = Math.max(0, warmupSteps);
        this.totalSteps = Math.max(1, totalSteps);
        this.startFactor = startFactor;
    }

    /** Learning rate for the 0-based optimizer step {@code step}. */
    public float rateAt(int step) {
        if (step < warmupSteps) {
            return baseLr * (startFactor + (1f - startFactor) * step / warmupSteps);
        }
        int decaySteps = Math.max(1, totalSteps - warmupSteps);
        int t = Math.min(step - warmupSteps, decaySteps);
        return (float) (baseLr * (1 + Math.cos(Math.PI * t / decaySteps)) / 2);
    }

    /** DJL counts updates from 1. */
    @Override
    public float getNewValue(int numUpdate) {
        return rateAt(Math.max(0, numUpdate - 1));
    }
}
