package dev.petal.ingest.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.image.ImageLimits;
import dev.petal.ingest.DatasetScanner;
import dev.petal.ingest.FileInspector;
import dev.petal.ingest.ImageCheck;
import dev.petal.localstack.LocalStack;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The ingest benchmark: publishes a class-folder dataset (default: the 4,317 flower photos in
 * shared/datasets/flowers, read in place) with full validation into a fresh embedded broker and
 * prints images/s and MB/s. The publishing is the service's own: the packaged {@code ingest dataset} command
 * (its {@code published-images} channel), run against the fresh stack. Not a JUnit test: run it with
 * {@code ingest-service/bench.sh}, which packages the service first.
 *
 * <p>Arguments: {@code [DIR] [--compression none|lz4|...] [--check-only]}; {@code --check-only}
 * times reading, hashing and validation alone, without Kafka.
 */
public final class IngestBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    private IngestBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("../shared/datasets/flowers");
        String compression = "none";
        boolean checkOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--compression" -> compression = args[++i];
                case "--check-only" -> checkOnly = true;
                default -> dir = Path.of(args[i]);
            }
        }
        ImageCheck check = new ImageCheck(ImageLimits.defaults());
        if (checkOnly) {
            var files = DatasetScanner.scan(dir).files().stream().map(DatasetScanner.DatasetFile::path).toList();
            long start = System.nanoTime();
            long[] bytes = {0};
            int threads = Math.max(2, Runtime.getRuntime().availableProcessors()); // petal.ingest.threads=0
            try (FileInspector inspector = new FileInspector(check, threads)) {
                inspector.inspect(files, f -> bytes[0] += f.size());
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "{\"benchmark\":\"check-only\",\"files\":%d,\"threads\":%d,\"seconds\":%.2f,"
                    + "\"imagesPerSecond\":%.1f,\"megabytesPerSecond\":%.1f}%n",
                    files.size(), threads, seconds, files.size() / seconds, bytes[0] / 1e6 / seconds);
            return;
        }
        Path state = Files.createTempDirectory("petal-ingest-bench-");
        try (LocalStack stack = LocalStack.start(state)) {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dquarkus.http.port=0", "-Dquarkus.management.port=0", "-Dpetal.ingest.compression=" + compression));
            stack.clientConfig().forEach((k, v) -> command.add("-D" + k + "=" + v));
            command.addAll(List.of("-jar", Path.of("ingest-service/target/quarkus-app/quarkus-run.jar").toString(),
                    "dataset", dir.toString(), "--dataset", "bench"));
            Process ingest = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            JsonNode summary = null;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(ingest.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    JsonNode event = line.startsWith("{") ? JSON.readTree(line) : null;
                    if (event != null && "summary".equals(event.path("event").asText())) {
                        summary = event;
                    }
                }
            }
            int exit = ingest.waitFor();
            if (summary == null) {
                throw new IllegalStateException("ingest dataset exited " + exit + " without a summary");
            }
            System.out.printf(Locale.ROOT, "{\"benchmark\":\"ingest dataset\",\"dir\":\"%s\",\"compression\":\"%s\","
                    + "\"published\":%d,\"duplicates\":%d,\"rejected\":%d,\"bytes\":%d,\"seconds\":%.2f,"
                    + "\"imagesPerSecond\":%.1f,\"megabytesPerSecond\":%.1f,\"brokerLogBytes\":%d}%n",
                    dir, compression, summary.path("published").asLong(), summary.path("duplicates").asLong(),
                    summary.path("rejected").asLong(), summary.path("bytes").asLong(), summary.path("seconds").asDouble(),
                    summary.path("imagesPerSecond").asDouble(), summary.path("megabytesPerSecond").asDouble(),
                    sizeOf(state.resolve("kafka")));
        } finally {
            deleteRecursively(state);
        }
    }

    private static long sizeOf(Path dir) throws Exception {
        try (var walk = Files.walk(dir)) {
            return walk.filter(p -> p.toString().contains("petal.train") && Files.isRegularFile(p))
                    .mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void deleteRecursively(Path dir) throws Exception {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
