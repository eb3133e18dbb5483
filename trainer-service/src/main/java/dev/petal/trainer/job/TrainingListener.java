package dev.petal.trainer.job;

import dev.petal.common.checkpoint.CheckpointManifest;

/** What a run reports as it goes: metrics gauges and tests listen; the default ignores everything. */
public interface TrainingListener {
    TrainingListener NONE = new TrainingListener() {};

    /** After every training step; {@code step} is the global step (1-based), {@code epoch} 1-based. */
    default void onStep(int epoch, long step, long totalSteps, float loss, double imagesPerSecond) {}

    /** After each epoch's validation. */
    default void onEpoch(int epoch, double trainLoss, double validAccuracy) {}

    /** Once a version is in storage, {@code latest} moved and the petal.models event sent. */
    default void onPublished(CheckpointManifest manifest) {}

    /** Each failed upload attempt of a checkpoint, before the retry. */
    default void onUploadRetry(String version, int attempt, Exception cause) {}

    /** Records of the dataset topic sent to the dead-letter topic. */
    default void onDeadLettered(int count) {}
}
