package dev.petal.ingest;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress of a long run: a redrawn bar (count, rate, ETA) on stderr when attached to a terminal,
 * otherwise a plain log line every interval, so logs collected by CI or Kubernetes stay readable.
 * Called from one thread.
 */
public final class ProgressReporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);
    private static final int BAR_WIDTH = 30;

    private final String task;
    private final long total;
    private final String unit;
    private final PrintStream terminal;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long done;
    private long lastShown;

    /** @param terminal where to draw a bar, or {@code null} to log lines instead */
    public ProgressReporter(String task, long total, String unit, PrintStream terminal, Duration interval) {
        this.task = task;
        this.total = total;
        this.unit = unit;
        this.terminal = terminal;
        this.intervalNanos = terminal != null ? 200_000_000L : interval.toNanos();
        this.lastShown = start;
    }

    /** A bar on stderr when a console is attached, log lines otherwise. */
    public static ProgressReporter forConsole(String task, long total, String unit, Duration interval) {
        return new ProgressReporter(task, total, unit, System.console() != null ? System.err : null, interval);
    }

    public void advance(long amount) {
        done += amount;
        long now = System.nanoTime();
        if (now - lastShown >= intervalNanos) {
            lastShown = now;
            show(now);
        }
    }

    public long done() {
        return done;
    }

    /** Rate in units per second since the start. */
    public double rate() {
        double seconds = (System.nanoTime() - start) / 1e9;
        return seconds > 0 ? done / seconds : 0;
    }

    String line(long now) {
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = rate > 0 && total > 0 ? formatSeconds((total - done) / rate) : "?";
        return String.format(Locale.ROOT, "%s %d/%d %s, %.1f %s/s, ETA %s", task, done, total, unit, rate, unit, eta);
    }

    private void show(long now) {
        if (terminal == null) {
            LOG.info(line(now));
            return;
        }
        int filled = total > 0 ? (int) Math.min(BAR_WIDTH, BAR_WIDTH * done / total) : 0;
        terminal.print("\r[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] " + line(now) + "   ");
        terminal.flush();
    }

    @Override
    public void close() {
        if (terminal != null) {
            show(System.nanoTime());
            terminal.println();
        }
    }

    static String formatSeconds(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
