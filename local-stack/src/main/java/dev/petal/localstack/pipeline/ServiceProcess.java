package dev.petal.localstack.pipeline;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Starts one Petal JVM as a child process with its own log file, and waits until it answers. */
final class ServiceProcess {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private ServiceProcess() {}

    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * The JVM options the launcher gives Petal's services ({@code PETAL_JVM_OPTS}, set by {@code ./petal}),
     * so a service started by {@code ./petal up} runs as it would started alone; none when unset.
     */
    static List<String> serviceJvmOptions() {
        String options = System.getenv("PETAL_JVM_OPTS");
        return options == null || options.isBlank() ? List.of() : List.of(options.trim().split("\\s+"));
    }

    /**
     * {@link #serviceJvmOptions()}, and for the inference service {@code PETAL_INFERENCE_JVM_OPTS} after them: the
     * launcher defines both, the inference service's default with them (its heap and JIT, docs/configuration.md), so
     * {@code ./petal up} starts it as {@code ./petal inference serve} would; none when unset.
     */
    static List<String> serviceJvmOptions(String service) {
        List<String> options = new ArrayList<>(serviceJvmOptions());
        String extra = System.getenv("PETAL_INFERENCE_JVM_OPTS");
        if ("inference".equals(service) && !options.isEmpty() && extra != null && !extra.isBlank()) {
            options.addAll(List.of(extra.trim().split("\\s+")));
        }
        return options;
    }

    /** Launches {@code java <jvmArgs> <mainArgs>} detached from this process, logging to {@code log}. */
    static Process launch(List<String> jvmArgs, Map<String, String> systemProperties, List<String> mainArgs, Path log)
            throws IOException {
        return launch(jvmArgs, systemProperties, Map.of(), mainArgs, log);
    }

    /**
     * The same, with {@code environment} added to the process's environment: where secrets go, since system
     * properties stand on the command line, which every user of the machine can list.
     */
    static Process launch(List<String> jvmArgs, Map<String, String> systemProperties, Map<String, String> environment,
                          List<String> mainArgs, Path log) throws IOException {
        Files.createDirectories(log.getParent());
        List<String> command = new ArrayList<>();
        command.add(javaBinary());
        systemProperties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(jvmArgs);
        command.addAll(mainArgs);
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        // The same allocator and offline settings as the launcher and the container images. A preloaded
        // tcmalloc (the launcher's PETAL_ALLOCATOR) is inherited through LD_PRELOAD; the glibc settings are
        // its fallback, and cover a caller that did not come through the launcher (tests).
        pb.environment().putIfAbsent("MALLOC_ARENA_MAX", "1");
        pb.environment().putIfAbsent("MALLOC_MMAP_MAX_", "0");
        pb.environment().putIfAbsent("MALLOC_TRIM_THRESHOLD_", "17179869184");
        pb.environment().putIfAbsent("DJL_OFFLINE", "true");
        pb.environment().putAll(environment);
        return pb.start();
    }

    /** HTTP status of GET url, or -1 when nothing answers. */
    static int status(String url) {
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).GET().build();
            return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Waits until url answers 200, the process dies, or the timeout passes. */
    static boolean awaitHealthy(Process process, String url, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                return false;
            }
            if (status(url) == 200) {
                return true;
            }
            Thread.sleep(250);
        }
        return false;
    }

    /** SIGTERM, then SIGKILL after the grace period. Returns whether it had to kill. */
    static boolean stop(long pid, Duration grace) throws InterruptedException {
        var handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !handle.get().isAlive()) {
            return false;
        }
        handle.get().destroy();
        long deadline = System.nanoTime() + grace.toNanos();
        while (handle.get().isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        if (handle.get().isAlive()) {
            handle.get().destroyForcibly();
            return true;
        }
        return false;
    }
}
