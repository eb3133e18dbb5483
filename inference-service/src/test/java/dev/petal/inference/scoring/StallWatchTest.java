package dev.petal.inference.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The stall rule on a clock of the test's own: what waits longest decides; past the timeout it is a stall, counted once. */
class StallWatchTest {
    private final AtomicLong now = new AtomicLong();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final StallWatch watch = new StallWatch(Duration.ofSeconds(30), registry, now::get);

    private void advance(long seconds) {
        now.addAndGet(Duration.ofSeconds(seconds).toNanos());
        watch.check();
    }

    private double gauge() {
        return registry.get("petal.inference.stall.seconds").gauge().value();
    }

    @Test
    void aWriteWaitingPastTheTimeoutIsOneStallUntilTheBrokerTakesIt() {
        try {
            watch.waiting("outputs");
            advance(29);
            assertEquals(Optional.empty(), watch.stalled(), "not yet");
            assertEquals(0.0, gauge());
            watch.failed("outputs", new IllegalStateException("refused"));
            advance(1);
            assertEquals(Optional.of(Duration.ofSeconds(30)), watch.stalled());
            assertEquals(1.0, watch.stallCount());
            assertTrue(watch.describe().orElseThrow().contains("refused"), watch.describe().orElseThrow());
            advance(45);
            assertEquals(1.0, watch.stallCount(), "one stall, however long");
            assertEquals(75.0, gauge());
            watch.done("outputs");
            advance(1);
            assertEquals(Optional.empty(), watch.stalled());
            assertEquals(0.0, gauge());
            watch.waiting("outputs");
            advance(31);
            assertEquals(2.0, watch.stallCount(), "a new stall counts again");
        } finally {
            watch.close();
        }
    }

    @Test
    void theOldestWaitingWriteDecidesAndAWriteAlreadyWaitingKeepsItsStart() {
        try {
            watch.waiting("offsets of images-0");
            advance(20);
            watch.waiting("outputs");
            watch.waiting("offsets of images-0"); // a retry: still waiting since the first try
            advance(10);
            assertEquals(Optional.of(Duration.ofSeconds(30)), watch.stalled());
            assertTrue(watch.describe().orElseThrow().startsWith("offsets of images-0"));
            watch.forget("offsets of images-0"); // revoked: no longer this replica's to commit
            assertEquals(Optional.empty(), watch.stalled(), "outputs have waited 10 s only");
        } finally {
            watch.close();
        }
    }
}
