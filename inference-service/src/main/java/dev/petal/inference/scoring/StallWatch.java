package dev.petal.inference.scoring;

import dev.petal.common.concurrent.DaemonThreads;
import dev.petal.inference.InferenceSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * Makes a stalled scoring pipeline visible: outputs ({@code petal.predictions}, {@code petal.dlq}) or input offsets
 * that the broker has not acknowledged for longer than {@code petal.inference.stall-timeout}.
 *
 * <p>Each writer says when something starts waiting for the broker ({@link #waiting}: a batch's outputs, a
 * partition's offset commit, an exactly-once transaction) and when the broker took it ({@link #done}). The oldest
 * write still waiting is the stall's age. Past the timeout: readiness is DOWN ({@link #stalled()}), the counter
 * {@code petal_inference_stalls_total} counts the stall once, the gauge {@code petal_inference_stall_seconds} gives its
 * age, and the log says so once when it begins, once per timeout while it lasts, and once when it ends. Failed
 * attempts in between are only remembered ({@link #failed}) for those lines: one line per interval, never one per
 * record or retry.
 */
@Startup // the meters are on /q/metrics before the first stall
@ApplicationScoped
public class StallWatch {
    private static final Logger LOG = Logger.getLogger(StallWatch.class);

    private final Duration timeout;
    private final LongSupplier clock;
    private final Map<String, Long> waitingSince = new ConcurrentHashMap<>();
    private final Map<String, String> lastError = new ConcurrentHashMap<>();
    private final Counter stalls;
    private ScheduledExecutorService checker;
    /** Set while a stall is declared: when it began (nanos), and when to log again. */
    private long stallStart;
    private long nextLog;
    private boolean inStall;

    @Inject
    public StallWatch(InferenceSettings settings, MeterRegistry registry) {
        this(settings.stallTimeout(), registry, System::nanoTime);
    }

    StallWatch(Duration timeout, MeterRegistry registry, LongSupplier clock) {
        this.timeout = timeout;
        this.clock = clock;
        this.stalls = Counter.builder("petal.inference.stalls")
                .description("Times outputs or offsets waited for the broker longer than petal.inference.stall-timeout")
                .register(registry);
        Gauge.builder("petal.inference.stall.seconds", this, w -> w.stalled().map(d -> d.toMillis() / 1000.0).orElse(0.0))
                .description("Age of the current stall (0 when not stalled)").register(registry);
    }

    public Duration timeout() {
        return timeout;
    }

    /** {@code what} (a batch's outputs, a partition's offsets) waits for the broker from now, unless it already did. */
    public void waiting(String what) {
        waitingSince.putIfAbsent(what, clock.getAsLong());
        startChecker();
    }

    /** An attempt at {@code what} failed; it keeps waiting (the error is kept for the next log line). */
    public void failed(String what, Throwable error) {
        lastError.put(what, String.valueOf(error));
    }

    /** The broker took {@code what}. */
    public void done(String what) {
        waitingSince.remove(what);
        lastError.remove(what);
    }

    /** Forgets everything waiting (a stop, a rebalance that took the partitions away). */
    public void forget(String what) {
        done(what);
    }

    /** The age of the oldest write still waiting, when it is past the timeout. */
    public Optional<Duration> stalled() {
        return oldest().map(Map.Entry::getValue).map(since -> Duration.ofNanos(clock.getAsLong() - since))
                .filter(age -> age.compareTo(timeout) >= 0);
    }

    /** What waits longest, and for how long (whether or not past the timeout). */
    public Optional<String> describe() {
        return oldest().map(e -> e.getKey() + " waiting " + Duration.ofNanos(clock.getAsLong() - e.getValue()).toSeconds() + " s"
                + Optional.ofNullable(lastError.get(e.getKey())).map(err -> " (last error: " + err + ")").orElse(""));
    }

    public double stallCount() {
        return stalls.count();
    }

    private Optional<Map.Entry<String, Long>> oldest() {
        return waitingSince.entrySet().stream().min(Map.Entry.comparingByValue());
    }

    /** Called every second: declares, repeats and ends a stall, each with one log line. */
    synchronized void check() {
        Optional<Duration> age = stalled();
        long now = clock.getAsLong();
        if (age.isPresent() && !inStall) {
            inStall = true;
            stallStart = now - age.get().toNanos();
            nextLog = now + timeout.toNanos();
            stalls.increment();
            LOG.warnf("scoring stalled: %s, over petal.inference.stall-timeout (%d s); not ready until the broker takes it",
                    describe().orElse("a write"), timeout.toSeconds());
        } else if (age.isPresent() && now >= nextLog) {
            nextLog = now + timeout.toNanos();
            LOG.warnf("scoring still stalled after %d s: %s", Duration.ofNanos(now - stallStart).toSeconds(),
                    describe().orElse("a write"));
        } else if (age.isEmpty() && inStall) {
            inStall = false;
            LOG.infof("scoring recovered: the broker takes outputs and offsets again after a %d s stall",
                    Duration.ofNanos(now - stallStart).toSeconds());
        }
    }

    private synchronized void startChecker() {
        if (checker == null) {
            checker = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("petal-stall-watch"));
            checker.scheduleWithFixedDelay(this::checkQuietly, 1, 1, TimeUnit.SECONDS);
        }
    }

    private void checkQuietly() {
        try {
            check();
        } catch (RuntimeException e) {
            LOG.debug("stall check failed", e);
        }
    }

    @PreDestroy
    synchronized void close() {
        if (checker != null) {
            checker.shutdownNow();
        }
    }
}
