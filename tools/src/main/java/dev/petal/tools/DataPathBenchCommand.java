package dev.petal.tools;

import dev.petal.common.image.DecodedImage;
import dev.petal.common.image.ImageDecoder;
import dev.petal.common.image.Normalization;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.image.RejectedImageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./petal bench data-path}: the data path every image takes in training and serving: bytes ->
 * {@link ImageDecoder} -> {@link Preprocessor} (RGB, resize, normalise, CHW floats). Reads every file under a
 * folder in place (into memory first, so disk speed is not measured), runs it on one thread, then on N threads,
 * and prints one JSON line.
 */
@Command(name = "data-path", mixinStandardHelpOptions = true,
        description = "Images/s of decoding and preprocessing (no model), on one thread and on N; prints one JSON line.")
public class DataPathBenchCommand implements Callable<Integer> {
    @Option(names = "--dir", defaultValue = "../shared/datasets/flowers",
            description = "Folder of images, searched recursively (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--threads", description = "Threads of the second pass (default: the CPUs).")
    Integer threadCount;

    @Option(names = "--size", defaultValue = "224", description = "The model's input size (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--subsample", defaultValue = "true", arity = "1",
            description = "Decode JPEGs subsampled toward --size, as the services do (default: ${DEFAULT-VALUE}).")
    boolean subsample;

    @Option(names = "--normalization", defaultValue = "imagenet", description = "imagenet or none (default: ${DEFAULT-VALUE}).")
    String normalizationName;

    @Option(names = "--limit", defaultValue = "2147483647", description = "At most this many files.")
    int limit;

    @Override
    public Integer call() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        int threads = threadCount != null ? threadCount : cores;
        Normalization normalization = Normalization.parse(normalizationName);
        if (!Files.isDirectory(dir)) {
            System.err.println("petal bench data-path: no folder at " + dir + " (give --dir, a folder of images)");
            return 2;
        }
        List<byte[]> images = load(dir, limit);
        long totalBytes = images.stream().mapToLong(b -> b.length).sum();
        ImageDecoder decoder = new ImageDecoder();
        Preprocessor preprocessor = new Preprocessor(size, normalization);
        int target = subsample ? size : 0;

        Pass warmUp = new Pass(decoder, preprocessor, target);
        warmUp.run(images.subList(0, Math.min(images.size(), 600)), 1);
        Pass one = new Pass(decoder, preprocessor, target);
        one.run(images, 1);
        Pass many = new Pass(decoder, preprocessor, target);
        many.run(images, threads);

        double oneRate = images.size() / one.seconds;
        double manyRate = images.size() / many.seconds;
        int busyCores = Math.min(threads, cores);
        StringBuilder json = new StringBuilder();
        json.append('{')
                .append("\"benchmark\":\"data-path\"")
                .append(",\"dir\":\"").append(dir.toString().replace("\\", "\\\\").replace("\"", "\\\"")).append('"')
                .append(",\"images\":").append(images.size())
                .append(",\"megabytes\":").append(fmt(totalBytes / 1e6))
                .append(",\"size\":").append(size)
                .append(",\"subsample\":").append(subsample)
                .append(",\"normalization\":\"").append(normalization.id()).append('"')
                .append(",\"cores\":").append(cores)
                .append(",\"java\":\"").append(System.getProperty("java.version")).append('"')
                .append(",\"oneThread\":{\"seconds\":").append(fmt(one.seconds))
                .append(",\"imagesPerSecond\":").append(fmt(oneRate))
                .append(",\"decodeMsPerImage\":").append(fmt(one.decodeNanos.sum() / 1e6 / images.size()))
                .append(",\"preprocessMsPerImage\":").append(fmt(one.preprocessNanos.sum() / 1e6 / images.size()))
                .append('}')
                .append(",\"threads\":").append(threads)
                .append(",\"allThreads\":{\"seconds\":").append(fmt(many.seconds))
                .append(",\"imagesPerSecond\":").append(fmt(manyRate))
                .append(",\"imagesPerSecondPerCore\":").append(fmt(manyRate / busyCores))
                .append('}')
                .append(",\"rejected\":{")
                .append(one.rejected.entrySet().stream().sorted(Map.Entry.comparingByKey())
                        .map(e -> "\"" + e.getKey() + "\":" + e.getValue()).collect(Collectors.joining(",")))
                .append("}}");
        System.out.println(json);
        return 0;
    }

    private static List<byte[]> load(Path dir, int limit) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).sorted().limit(limit).collect(Collectors.toList());
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no files under " + dir);
        }
        List<byte[]> images = new ArrayList<>(files.size());
        for (Path file : files) {
            images.add(Files.readAllBytes(file));
        }
        return images;
    }

    private static String fmt(double value) {
        return String.format(Locale.ROOT, "%.3f", value);
    }

    /** One timed pass over all images; rejections are counted, not fatal. */
    private static final class Pass {
        final ImageDecoder decoder;
        final Preprocessor preprocessor;
        final int target;
        final LongAdder decodeNanos = new LongAdder();
        final LongAdder preprocessNanos = new LongAdder();
        final Map<String, AtomicInteger> rejected = new ConcurrentHashMap<>();
        double seconds;

        Pass(ImageDecoder decoder, Preprocessor preprocessor, int target) {
            this.decoder = decoder;
            this.preprocessor = preprocessor;
            this.target = target;
        }

        void run(List<byte[]> images, int threads) throws Exception {
            AtomicInteger next = new AtomicInteger();
            Runnable worker = () -> {
                float[] tensor = new float[preprocessor.tensorLength()];
                for (int i = next.getAndIncrement(); i < images.size(); i = next.getAndIncrement()) {
                    long start = System.nanoTime();
                    try {
                        DecodedImage image = decoder.decode(images.get(i), target);
                        long decoded = System.nanoTime();
                        preprocessor.toTensor(image.image(), tensor, 0);
                        decodeNanos.add(decoded - start);
                        preprocessNanos.add(System.nanoTime() - decoded);
                    } catch (RejectedImageException e) {
                        rejected.computeIfAbsent(e.errorClass(), k -> new AtomicInteger()).incrementAndGet();
                    }
                }
            };
            long start = System.nanoTime();
            if (threads <= 1) {
                worker.run();
            } else {
                ExecutorService pool = Executors.newFixedThreadPool(threads);
                try {
                    List<Future<?>> jobs = new ArrayList<>();
                    for (int t = 0; t < threads; t++) {
                        jobs.add(pool.submit(worker));
                    }
                    for (Future<?> job : jobs) {
                        job.get();
                    }
                } finally {
                    pool.shutdown();
                }
            }
            seconds = (System.nanoTime() - start) / 1e9;
        }
    }
}
