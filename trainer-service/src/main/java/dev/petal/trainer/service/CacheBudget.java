package dev.petal.trainer.service;

import dev.petal.trainer.job.Recipe;

/**
 * The most memory a service run's image cache ({@code cacheMegabytes}: encoded images kept on the heap between
 * epochs) may take: a share ({@value #SHARE}) of this JVM's largest heap, whoever asks. A request for more is
 * refused ({@link TrainRequests}); the service's own recipe is cut down to it.
 */
public final class CacheBudget {
    public static final String SHARE = "petal.trainer.cache-memory-share";
    private final double share;

    /** @throws IllegalStateException when {@code share} is not from 0 to 0.9 */
    public CacheBudget(double share) {
        if (!(share >= 0 && share <= 0.9)) {
            throw new IllegalStateException(SHARE + " must be a number from 0 to 0.9 (a share of the heap)");
        }
        this.share = share;
    }

    /** The budget in MiB. */
    public long maxMegabytes() {
        return (long) (share * Runtime.getRuntime().maxMemory()) >> 20;
    }

    /** {@code recipe}, its cache cut to the budget. */
    public Recipe bounded(Recipe recipe) {
        long max = maxMegabytes();
        return recipe.cacheMegabytes() <= max ? recipe : recipe.toBuilder().cacheMegabytes(max).build();
    }
}
