package dev.petal.common.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Measures the data path every image takes in training and serving: bytes -> {@link ImageDecoder}
 * -> {@link Preprocessor} (RGB, resize, normalise, CHW floats). Reads every file under a folder
 * in place (into memory first, so disk speed is not measured), runs it on one thread, then on N
 * threads, and prints one JSON line.
 *
 * <pre>java -cp ... dev.petal.common.image.DataPathBenchmark [--dir DIR] [--threads N] [--size 224]
 *     [--subsample true|false] [--normalization imagenet|none] [--limit COUNT]</pre>
 */
public final class DataPathBenchmark {
    private DataPathBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new TreeMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                System.err.println("usage: DataPathBenchmark [--dir DIR] [--threads N] [--size 224] [--subsample true|false]"
                        + " [--normalization imagenet|none] [--limit COUNT]");
                System.exit(2);
            }
            options.put(args[i].substring(2), args[++i]);
        }
        Path dir = Path.of(options.getOrDefault("dir", "/work/shared/datasets/flowers"));
        int cores = Runtime.getRuntime().availableProcessors();
        int threads = Integer.parseInt(options.getOrDefault("threads", String.valueOf(cores)));
        int size = Integer.parseInt(options.getOrDefault("size", "224"));
        boolean subsample = Boolean.parseBoolean(options.getOrDefault("subsample", "true"));
        Normalization normalization = Normalization.parse(options.getOrDefault("normalization", "imagenet"));
        int limit = Integer.parseInt(options.getOrDefault("limit", String.valueOf(Integer.MAX_VALUE)));

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
