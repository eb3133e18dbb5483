package dev.petal.trainer.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.trainer.job.Recipe;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;

/** A run that throws anything ends as failed and leaves the service idle; an error the JVM may not survive turns liveness DOWN. */
class TrainingRunsTest {
    private static void awaitIdle(TrainingRuns runs) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (runs.isRunning() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    @Test
    void anOutOfMemoryErrorFailsTheRunFreesTheServiceAndTurnsLivenessDown() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        TrainingRuns runs = new TrainingRuns(new TrainingMetrics(new SimpleMeterRegistry()), new CacheBudget(0.25), recipe -> {
            calls.incrementAndGet();
            throw new OutOfMemoryError("Java heap space");
        });
        TrainerLiveness liveness = new TrainerLiveness(runs);
        assertEquals(HealthCheckResponse.Status.UP, liveness.call().getStatus());

        assertTrue(runs.start(Recipe.seedRecipe(), "test"));
        awaitIdle(runs);
        assertEquals("failed", runs.state().get("state"));
        assertEquals("Java heap space", runs.state().get("error"));
        assertNotNull(runs.fatal());
        assertEquals(HealthCheckResponse.Status.DOWN, liveness.call().getStatus());

        assertTrue(runs.start(Recipe.seedRecipe(), "test"), "a new request is taken, not refused with 409 for good");
        awaitIdle(runs);
        assertEquals(2, calls.get());
    }

    @Test
    void anExceptionFailsTheRunAndLeavesLivenessUp() throws Exception {
        TrainingRuns runs = new TrainingRuns(new TrainingMetrics(new SimpleMeterRegistry()), new CacheBudget(0.25), recipe -> {
            throw new IllegalStateException("ingest a dataset first");
        });
        assertTrue(runs.start(Recipe.seedRecipe(), "test"));
        awaitIdle(runs);
        assertEquals("failed", runs.state().get("state"));
        assertNull(runs.fatal());
        assertEquals(HealthCheckResponse.Status.UP, new TrainerLiveness(runs).call().getStatus());
    }
}
