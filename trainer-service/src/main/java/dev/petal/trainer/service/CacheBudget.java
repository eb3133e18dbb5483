package dev.petal.trainer.service;

import dev.petal.trainer.job.Recipe;

/**
 * The most memory a service run's image cache ({@code cacheMegabytes}: encoded images kept on the heap between
 * epochs) may take: {@value #SHARE} (default {@value #DEFAULT_SHARE}) of this JVM's largest heap, whoever asks.
 * A request for more is refused ({@link TrainRequests}); the service's own recipe is cut down to it.
 */
public final class CacheBudget {
    public static final String SHARE = "petal.trainer.cache-memory-share";
    static final double DEFAULT_SHARE = 0.25;

    private CacheBudget() {}

    /** The budget in MiB. */
    public static long maxMegabytes() {
        return (long) (share() * Runtime.getRuntime().maxMemory()) >> 20;
    }

    /** {@code recipe}, its cache cut to the budget. */
    public static Recipe bounded(Recipe recipe) {
        long max = maxMegabytes();
        return recipe.cacheMegabytes() <= max ? recipe : recipe.toBuilder().cacheMegabytes(max).build();
    }

    static double share() {
        String value = TrainerConfig.lookup().apply(SHARE);
        if (value == null || value.isBlank()) {
            return DEFAULT_SHARE;
        }
        try {
            double share = Double.parseDouble(value.trim());
            if (share >= 0 && share <= 0.9) {
                return share;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalStateException(SHARE + " must be a number from 0 to 0.9 (a share of the heap)");
    }
}
