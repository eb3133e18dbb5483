package dev.petal.tools.soak;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * Looks at another process from outside: its resident memory and CPU time from {@code /proc/PID}
 * (Linux), and, when its management port is known, the JVM heap in use from Micrometer's {@code /q/metrics}.
 */
public final class ProcessProbe {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final long pid;
    private final Integer managementPort;

    /** @param managementPort the service's management interface port (health, metrics); null: no heap figures */
    public ProcessProbe(long pid, Integer managementPort) {
        this.pid = pid;
        this.managementPort = managementPort;
    }

    public long pid() {
        return pid;
    }

    public boolean alive() {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** VmRSS from {@code /proc/PID/status}, in bytes; empty when the process is gone. */
    public OptionalLong rssBytes() {
        return statusField("VmRSS:");
    }

    /** VmHWM (the peak resident set so far) from {@code /proc/PID/status}, in bytes. */
    public OptionalLong peakRssBytes() {
        return statusField("VmHWM:");
    }

    private OptionalLong statusField(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(field)) {
                    String[] parts = line.substring(field.length()).trim().split("\\s+");
                    return OptionalLong.of(Long.parseLong(parts[0]) * 1024);
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone, or not Linux
        }
        return OptionalLong.empty();
    }

    /** User plus system CPU seconds the process has used, from {@code /proc/PID/stat}. */
    public OptionalDouble cpuSeconds() {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // Fields after the command name, which is in parentheses and may hold spaces.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
            return OptionalDouble.of(ticks / 100.0); // USER_HZ is 100 on Linux
        } catch (IOException | RuntimeException e) {
            return OptionalDouble.empty();
        }
    }

    /** JVM heap in use and committed, in bytes (-1 when unknown). */
    public record Heap(long used, long committed) {
        static final Heap UNKNOWN = new Heap(-1, -1);
    }

    /** Sums of {@code jvm_memory_used_bytes} and {@code jvm_memory_committed_bytes} with {@code area="heap"} from {@code /q/metrics}. */
    public Heap heap() {
        if (managementPort == null) {
            return Heap.UNKNOWN;
        }
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/q/metrics"))
                    .timeout(Duration.ofSeconds(3)).GET().build();
            String body = HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body();
            return new Heap(heapSum(body, "jvm_memory_used_bytes{").orElse(-1), heapSum(body, "jvm_memory_committed_bytes{").orElse(-1));
        } catch (IOException | RuntimeException e) {
            return Heap.UNKNOWN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Heap.UNKNOWN;
        }
    }

    static OptionalLong heapUsed(String prometheusText) {
        return heapSum(prometheusText, "jvm_memory_used_bytes{");
    }

    static OptionalLong heapSum(String prometheusText, String metric) {
        double sum = 0;
        boolean found = false;
        for (String line : prometheusText.split("\n")) {
            if (line.startsWith(metric) && line.contains("area=\"heap\"")) {
                String value = line.substring(line.lastIndexOf('}') + 1).trim().split("\\s+")[0];
                sum += Double.parseDouble(value);
                found = true;
            }
        }
        return found ? OptionalLong.of((long) sum) : OptionalLong.empty();
    }

    /** The 1-minute load average of the machine, or -1. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
