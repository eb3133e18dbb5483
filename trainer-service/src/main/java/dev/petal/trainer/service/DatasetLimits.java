package dev.petal.trainer.service;

import dev.petal.trainer.job.TrainingJob;

/**
 * What a dataset on petal.train may hold before a run refuses it: at most {@value #MAX_LABELS} labels (default
 * {@value TrainingJob#DEFAULT_MAX_LABELS}). Anyone who can write to the topic chooses the labels, and the model's
 * head, every manifest and every report grow with them.
 */
public final class DatasetLimits {
    public static final String MAX_LABELS = "petal.trainer.max-labels";

    private DatasetLimits() {}

    public static int maxLabels() {
        String value = TrainerConfig.lookup().apply(MAX_LABELS);
        if (value == null || value.isBlank()) {
            return TrainingJob.DEFAULT_MAX_LABELS;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalStateException(MAX_LABELS + " must be a whole number, at least 2");
        }
    }
}
