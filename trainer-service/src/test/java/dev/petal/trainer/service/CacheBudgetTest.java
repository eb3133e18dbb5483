package dev.petal.trainer.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.trainer.job.Recipe;
import org.junit.jupiter.api.Test;

/** A service run's image cache never takes more than its share of the heap, whoever set it. */
class CacheBudgetTest {
    @Test
    void theBudgetIsAShareOfTheHeapAndCutsLargerRecipes() {
        long max = CacheBudget.maxMegabytes();
        assertEquals((long) (CacheBudget.DEFAULT_SHARE * Runtime.getRuntime().maxMemory()) >> 20, max);
        assertTrue(max > 0 && max < Runtime.getRuntime().maxMemory() >> 20);
        Recipe huge = Recipe.builder().cacheMegabytes(1L << 24).build();
        assertEquals(max, CacheBudget.bounded(huge).cacheMegabytes());
        Recipe small = Recipe.builder().cacheMegabytes(1).build();
        assertEquals(1, CacheBudget.bounded(small).cacheMegabytes(), "a budget within the share is kept");
    }
}
