package dev.petal.trainer.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.trainer.job.Recipe;
import org.junit.jupiter.api.Test;

/** A service run's image cache never takes more than its share of the heap, whoever set it. */
class CacheBudgetTest {
    @Test
    void theBudgetIsAShareOfTheHeapAndCutsLargerRecipes() {
        CacheBudget budget = new CacheBudget(0.25);
        long max = budget.maxMegabytes();
        assertEquals((long) (0.25 * Runtime.getRuntime().maxMemory()) >> 20, max);
        assertTrue(max > 0 && max < Runtime.getRuntime().maxMemory() >> 20);
        Recipe huge = Recipe.builder().cacheMegabytes(1L << 24).build();
        assertEquals(max, budget.bounded(huge).cacheMegabytes());
        Recipe small = Recipe.builder().cacheMegabytes(1).build();
        assertEquals(1, budget.bounded(small).cacheMegabytes(), "a budget within the share is kept");
    }

    @Test
    void aShareOutsideZeroToNinetyPercentIsRefused() {
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> new CacheBudget(0.95));
        assertTrue(refused.getMessage().contains(CacheBudget.SHARE), refused.getMessage());
        assertThrows(IllegalStateException.class, () -> new CacheBudget(Double.NaN));
    }
}
