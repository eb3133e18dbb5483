package dev.petal.inference.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * CPU time of this process's threads, by what they do, from Linux's per-thread scheduler statistics
 * ({@code /proc/self/task/<tid>/schedstat}: nanoseconds on a CPU; {@code comm}: the thread's name, cut to 15 characters).
 * The benchmark takes one {@link Snapshot} before its throughput run and one after. Native threads (ONNX Runtime's
 * intra-op pool, libtorch's OpenMP team) take the name of the thread that started them: the JVM's main thread's
 * ("java", as the process) or {@code petal-model}'s, so they count with the model.
 */
final class ThreadCpu {
    /** The groups, in the order printed; {@link #group} puts each thread in one of them by its name. */
    static final List<String> GROUPS = List.of("model", "decode", "kafkaClients", "jit", "gc", "benchDriver", "otherThreads");
    /** The name the benchmark gives its own thread, which sends the images and reads the predictions back. */
    static final String DRIVER = "petal-bench";
    private static final Path TASKS = Path.of("/proc/self/task");

    /** Nanoseconds on a CPU so far, per thread id, and each thread's name. */
    record Snapshot(Map<String, Long> nanos, Map<String, String> names) {}

    private ThreadCpu() {}

    /** This process's threads now; empty where the kernel does not publish them (not Linux, no scheduler statistics). */
    static Optional<Snapshot> take() {
        Map<String, Long> nanos = new HashMap<>();
        Map<String, String> names = new HashMap<>();
        try (Stream<Path> tasks = Files.list(TASKS)) {
            for (Path task : tasks.toList()) {
                try {
                    nanos.put(task.getFileName().toString(), onCpuNanos(Files.readString(task.resolve("schedstat"))));
                    names.put(task.getFileName().toString(), Files.readString(task.resolve("comm")).strip());
                } catch (NoSuchFileException e) {
                    // the thread ended between the listing and the read: it has no time left to count
                }
            }
        } catch (NoSuchFileException e) {
            return Optional.empty(); // no /proc/self/task: not Linux
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return nanos.isEmpty() ? Optional.empty() : Optional.of(new Snapshot(nanos, names));
    }

    /** The first of schedstat's three fields: time spent on a CPU, in nanoseconds. */
    static long onCpuNanos(String schedstat) {
        return Long.parseLong(schedstat.strip().split("\\s+")[0]);
    }

    /**
     * CPU seconds per group of {@link #GROUPS} between two snapshots. A thread that started in between counts from zero;
     * one that ended in between is missing from {@code after} and goes uncounted.
     */
    static Map<String, Double> secondsByGroup(Snapshot before, Snapshot after, String processName) {
        Map<String, Double> out = new LinkedHashMap<>();
        GROUPS.forEach(g -> out.put(g, 0.0));
        after.nanos().forEach((tid, nanos) -> {
            long spent = nanos - before.nanos().getOrDefault(tid, 0L);
            out.merge(group(after.names().get(tid), processName), spent / 1e9, Double::sum);
        });
        return out;
    }

    /** The group of a thread named {@code name}; {@code processName} is the name native threads inherit. */
    static String group(String name, String processName) {
        if (name.startsWith("petal-model") || name.equals(processName)) {
            return "model";
        } else if (name.startsWith("petal-decode")) {
            return "decode";
        } else if (name.startsWith("kafka-") || name.startsWith("smallrye-kafka")) {
            return "kafkaClients";
        } else if (name.contains("CompilerThre")) {
            return "jit";
        } else if (name.equals("VM Thread") || name.startsWith("GC Thread") || name.startsWith("G1 ")) {
            return "gc";
        } else if (name.equals(DRIVER)) {
            return "benchDriver";
        }
        return "otherThreads";
    }

    /** The name of the thread that started this process, which the runtimes' native threads inherit ("java"). */
    static String processName() {
        try {
            return Files.readString(Path.of("/proc/self/comm")).strip();
        } catch (IOException e) {
            return "java";
        }
    }
}
