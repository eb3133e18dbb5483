package dev.petal.trainer.service;

import dev.petal.common.model.Precision;
import io.smallrye.config.ConfigMapping;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The {@code petal.trainer.*} settings, validated when the trainer starts; their defaults are in
 * {@code application.properties}, once (environment: PETAL_TRAINER_DEVICE, ...).
 */
@ConfigMapping(prefix = "petal.trainer")
public interface TrainerSettings {
    /** cpu, gpu or auto; {@code --device} overrides it. */
    String device();

    /** fp32, or bf16 (mixed precision); {@code --precision} and a recipe's {@code precision} override it. */
    Precision precision();

    /** JSON recipe fields over the seed recipe, for {@code trainer serve} ({@code POST /train} and auto-retrain). */
    Optional<String> recipe();

    /** {@code trainer serve} retrains after this many new labelled images (0: never). */
    int autoRetrainAfter();

    /** How often auto-retrain decides whether to start a run. */
    Duration autoRetrainCheck();

    /** Where {@code ./petal trainer retrain} posts. */
    String url();

    /** Model names a {@code POST /train} body may choose (comma-separated); unset: only the service recipe's. */
    Optional<List<String>> allowedModelNames();

    /** The share of the heap a service run's image cache may take ({@link CacheBudget}), from 0 to 0.9. */
    double cacheMemoryShare();

    /** A dataset with more labels fails the run: anyone who can write petal.train chooses them. */
    int maxLabels();
}
