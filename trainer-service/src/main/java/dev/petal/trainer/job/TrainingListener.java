package dev.petal.trainer.job;

import dev.petal.common.checkpoint.CheckpointManifest;

/** What a run reports as it goes: metrics gauges and tests listen; the default ignores everything. */
public interface TrainingListener {
    TrainingListener NONE = new TrainingListener() {};

    /** After every training step; {@code step} is the global step (1-based), {@code epoch} 1-based. */
    default void onStep(int epoch, long step, long totalSteps, float loss, double imagesPerSecond) {}

    /** The same, with the learning rate the step used; the job calls this one, which by default calls the one above. */
    default void onStep(int epoch, long step, long totalSteps, float loss, double learningRate, double imagesPerSecond) {
        onStep(epoch, step, totalSteps, loss, imagesPerSecond);
    }

    /** After each epoch's validation. */
    default void onEpoch(int epoch, double trainLoss, double validAccuracy) {}

    /** Once a version is in storage, {@code latest} moved and the petal.models event sent. */
    default void onPublished(CheckpointManifest manifest) {}

    /** Each failed upload attempt of a checkpoint, before the retry. */
    default void onUploadRetry(String version, int attempt, Exception cause) {}

    /** Records of the dataset topic sent to the dead-letter topic. */
    default void onDeadLettered(int count) {}

    /** Every event to each of {@code listeners}, in order. */
    static TrainingListener all(TrainingListener... listeners) {
        return new TrainingListener() {
            @Override
            public void onStep(int epoch, long step, long totalSteps, float loss, double learningRate, double imagesPerSecond) {
                for (TrainingListener l : listeners) {
                    l.onStep(epoch, step, totalSteps, loss, learningRate, imagesPerSecond);
                }
            }

            @Override
            public void onEpoch(int epoch, double trainLoss, double validAccuracy) {
                for (TrainingListener l : listeners) {
                    l.onEpoch(epoch, trainLoss, validAccuracy);
                }
            }

            @Override
            public void onPublished(CheckpointManifest manifest) {
                for (TrainingListener l : listeners) {
                    l.onPublished(manifest);
                }
            }

            @Override
            public void onUploadRetry(String version, int attempt, Exception cause) {
                for (TrainingListener l : listeners) {
                    l.onUploadRetry(version, attempt, cause);
                }
            }

            @Override
            public void onDeadLettered(int count) {
                for (TrainingListener l : listeners) {
                    l.onDeadLettered(count);
                }
            }
        };
    }
}
