package dev.petal.ingest.bench;

import dev.petal.common.image.ImageLimits;
import dev.petal.ingest.DatasetIngest;
import dev.petal.ingest.DatasetReport;
import dev.petal.ingest.DatasetScanner;
import dev.petal.ingest.FileInspector;
import dev.petal.ingest.ImageCheck;
import dev.petal.ingest.IngestSettings;
import dev.petal.ingest.IngestSummary;
import dev.petal.localstack.LocalStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The ingest benchmark: publishes a class-folder dataset (default: the 4,317 flower photos in
 * shared/datasets/flowers, read in place) with full validation into a fresh embedded broker and
 * prints images/s and MB/s. Not a JUnit test: run it with {@code ingest-service/bench.sh}.
 *
 * <p>Arguments: {@code [DIR] [--compression none|lz4|...] [--check-only]}; {@code --check-only}
 * times reading, hashing and validation alone, without Kafka.
 */
public final class IngestBenchmark {
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
            int threads = IngestSettings.defaults("unused").threads();
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
            IngestSettings settings = IngestSettings.defaults(stack.bootstrapServers()).withCompression(compression);
            DatasetReport report = new DatasetIngest(settings, check, stack::objectStore)
                    .run(new DatasetIngest.Options(dir, "bench", 0.2, 100));
            IngestSummary s = report.summary();
            System.out.printf(Locale.ROOT, "{\"benchmark\":\"ingest dataset\",\"dir\":\"%s\",\"compression\":\"%s\","
                    + "\"threads\":%d,\"published\":%d,\"duplicates\":%d,\"rejected\":%d,\"bytes\":%d,\"seconds\":%.2f,"
                    + "\"imagesPerSecond\":%.1f,\"megabytesPerSecond\":%.1f,\"brokerLogBytes\":%d}%n",
                    dir, compression, settings.threads(), s.published(), s.duplicates(), s.rejected(), s.bytes(),
                    s.seconds(), s.imagesPerSecond(), s.megabytesPerSecond(), sizeOf(state.resolve("kafka")));
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
