package dev.petal.inference.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.petal.common.cli.ModelOptions;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.ImageDecoder;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.inference.Classifier;
import dev.petal.common.model.ActivationRanges;
import dev.petal.common.model.Int8Calibration;
import dev.petal.common.model.Precision;
import dev.petal.common.inference.LoadedModel;
import dev.petal.common.inference.ModelId;
import dev.petal.common.inference.ModelSource;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import dev.petal.inference.InferenceMetrics;
import dev.petal.inference.InferenceSettings;
import dev.petal.service.Storage;
import dev.petal.inference.InferenceService;
import dev.petal.inference.model.ModelHolder;
import dev.petal.inference.scoring.ScoringChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code petal inference bench}: the scoring path through Kafka against the bare model, one JSON line.
 *
 * <ol>
 *   <li>bare: images/s of {@link Classifier#topK} on already decoded tensors, batches of {@code --batch};</li>
 *   <li>kafka: a backlog of {@code --count} encoded images on a fresh topic, scored by the service's own
 *       {@link ScoringChannel} (fetch, decode, preprocess, score, publish, commit; exactly once the transactional
 *       loop): images/s from the first
 *       send to the last prediction read back, and where that time went, per stage of the channel
 *       ({@link InferenceMetrics#STAGES}) and per image of the decode stage;</li>
 *   <li>light load: {@code --light-count} images sent at {@code --rate} per second; latency from each
 *       send to its prediction being read back (p50, p99, max).</li>
 * </ol>
 * Needs a Kafka broker at {@code kafka.bootstrap.servers} (e.g. the local stack). It scores through the service's
 * channels, so their topics and group must be its own: {@code ./petal inference bench} sets
 * {@code petal.inference.input-topic}, {@code output-topic}, {@code dead-letter-topic} and {@code group} to
 * {@code petal.bench.*}, and the bench refuses the contract's topics; each run deletes and creates those topics
 * and the group afresh, so a running service is not disturbed. Without {@code --model}, a freshly initialised
 * ResNet (speed does not depend on the weights).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark scoring through Kafka against the bare model; prints one JSON line.")
public class BenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--images", required = true, description = "Folder of images (searched recursively), e.g. ../shared/datasets/flowers.")
    Path images;

    @Option(names = "--model", description = "A checkpoint folder or s3:// location; default: a fresh --arch at --image-size.")
    String model;

    /** The network to use without --model (fresh weights: speed does not depend on them). */
    @Mixin
    ModelOptions network;

    @Option(names = "--count", defaultValue = "256", description = "Images in the throughput runs (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--warmup-count", description = "Images scored before the throughput run (default: two batches).")
    Integer warmupCount;

    @Option(names = "--rate", defaultValue = "10", description = "Images per second under light load (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--light-count", defaultValue = "100", description = "Images sent under light load (default: ${DEFAULT-VALUE}).")
    int lightCount;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu or auto (default: ${DEFAULT-VALUE}).")
    String device;

    private final InferenceSettings settings;
    private final KafkaClients kafka;
    private final Storage storage;
    private final ModelHolder holder;
    private final InferenceService service;
    private final InferenceMetrics metrics;

    public BenchCommand(InferenceSettings settings, KafkaClients kafka, Storage storage, ModelHolder holder, InferenceService service,
                        InferenceMetrics metrics) {
        this.metrics = metrics;
        this.settings = settings;
        this.kafka = kafka;
        this.storage = storage;
        this.holder = holder;
        this.service = service;
    }

    @Override
    public Integer call() throws Exception {
        String images = settings.inputTopic();
        String predictions = settings.outputTopic();
        String dlq = settings.deadLetterTopic();
        if (Set.of(Topics.IMAGES, Topics.PREDICTIONS, Topics.DLQ, Topics.TRAIN, Topics.MODELS).stream()
                .anyMatch(t -> t.equals(images) || t.equals(predictions) || t.equals(dlq))) {
            System.err.println("petal bench: petal.inference.input-topic, output-topic and dead-letter-topic must be topics of"
                    + " the bench's own (it deletes them), not the contract's; ./petal inference bench sets petal.bench.*");
            return 2;
        }
        if (warmupCount != null && warmupCount < 0) {
            System.err.println("petal bench: --warmup-count must be 0 or more, was " + warmupCount);
            return 2;
        }
        List<byte[]> files = readImages();
        LoadedModel loaded = loadModel();
        Classifier classifier;
        ActivationRanges ranges = null;
        String calibration = null;
        try (loaded) {
            if (settings.precision() == Precision.INT8) {
                ranges = loaded.manifest() == null ? null : loaded.manifest().activationRanges();
                calibration = "checkpoint";
                if (ranges == null) { // a fresh model, or a version never validated: calibrated on the bench's own images
                    int n = Math.min(files.size(), Int8Calibration.IMAGES);
                    ranges = calibrate(loaded, files, n);
                    calibration = n + " of the bench's images";
                }
            }
            classifier = Classifier.load(loaded, loaded.spec(), PyTorchEngine.device(device), settings.precision(), settings.runtime(),
                    ranges);
        }
        int batch = settings.maxBatch();
        ObjectNode out = JSON.createObjectNode();
        out.put("arch", loaded.spec().architecture().id());
        out.put("imageSize", loaded.spec().imageSize());
        out.put("batch", batch);
        out.put("device", PyTorchEngine.device(device).toString());
        out.put("precision", settings.precision().id());
        out.put("runtime", classifier.runtime().id());
        if (calibration != null) {
            out.put("int8Calibration", calibration);
        }
        out.put("cpus", Runtime.getRuntime().availableProcessors());
        out.put("decodeAhead", settings.decodeAhead().map(String::valueOf).orElse("auto"));
        out.put("decodeThreads", settings.decodeThreadCount());

        double bare = bareThroughput(classifier, files, batch);
        out.put("bareImagesPerSec", round(bare));

        holder.swap(classifier, loaded.manifest());
        int partitions = 6;
        try (Admin admin = kafka.admin(Duration.ofSeconds(30))) {
            clear(admin, List.of(images, predictions, dlq));
            admin.createTopics(List.of(new NewTopic(images, partitions, (short) 1),
                    new NewTopic(predictions, partitions, (short) 1), new NewTopic(dlq, 1, (short) 1))).all().get();
        }
        service.startScoring();
        try (KafkaProducer<byte[], byte[]> producer = kafka.producer();
             KafkaConsumer<byte[], byte[]> reader = kafka.reader()) {
            List<TopicPartition> outputs = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                outputs.add(new TopicPartition(predictions, p));
            }
            reader.assign(outputs);
            reader.seekToBeginning(outputs);
            // Warm-up: the group joins and every thread has run once; a longer one also lets the heap grow to its size
            // under this load (a fresh JVM's growth, page by page, is a cost a running service has paid).
            int warmup = warmupCount == null ? batch * 2 : warmupCount;
            long countedBefore = metrics.inputs();
            sendAndAwait(producer, reader, images, files, "warm-", warmup, 0);
            awaitCounted(countedBefore + warmup);
            Map<String, Double> before = metrics.stageSeconds();
            double besideBefore = metrics.besideConsumingThreadSeconds();
            long batchesBefore = metrics.batches();
            double aheadBefore = metrics.batchesDecodedAhead();
            // Named now, not earlier: native threads take the name of the thread that starts them, and ONNX Runtime's
            // and libtorch's pools started on this one must count with the model, not with the bench's own work.
            Thread.currentThread().setName(ThreadCpu.DRIVER);
            Optional<ThreadCpu.Snapshot> cpuBefore = ThreadCpu.take();
            long start = System.nanoTime();
            sendAndAwait(producer, reader, images, files, "tput-", count, 0);
            double seconds = (System.nanoTime() - start) / 1e9;
            Optional<ThreadCpu.Snapshot> cpuAfter = ThreadCpu.take();
            awaitCounted(countedBefore + warmup + count);
            double kafkaRate = count / seconds;
            out.put("kafkaImagesPerSec", round(kafkaRate));
            out.put("kafkaToBareRatio", round(kafkaRate / bare));
            long batches = Math.max(1, metrics.batches() - batchesBefore);
            double ahead = (metrics.batchesDecodedAhead() - aheadBefore) / batches;
            out.put("decodedAheadShare", round(ahead));
            putStages(out, before, metrics.stageSeconds(), metrics.besideConsumingThreadSeconds() - besideBefore, seconds);
            out.put("meanBatch", round((double) count / batches));
            if (cpuBefore.isPresent() && cpuAfter.isPresent()) {
                putCpu(out, ThreadCpu.secondsByGroup(cpuBefore.get(), cpuAfter.get(), ThreadCpu.processName()), seconds);
            }
            double[] latencies = sendAndAwait(producer, reader, images, files, "light-", lightCount, rate);
            Arrays.sort(latencies);
            ObjectNode light = out.putObject("lightLoad");
            light.put("ratePerSec", rate);
            light.put("count", lightCount);
            light.put("p50Ms", round(percentile(latencies, 0.50)));
            light.put("p99Ms", round(percentile(latencies, 0.99)));
            light.put("maxMs", round(latencies[latencies.length - 1]));
            light.put("measured", "send to prediction read back");
        }
        System.out.println(JSON.writeValueAsString(out));
        return 0;
    }

    /**
     * Where the throughput run's time went: seconds per stage of the channel ({@link InferenceMetrics#STAGES}) and
     * their share of the run's wall time, then "other": the wall time the consuming thread's stages do not account for
     * (the first send, the last read back). The model, serialise and publish stages of the batches decoded ahead ran
     * beside the next batch's decode ({@code besideSeconds}), so the shares can add up to more than 1 and "other"
     * leaves those out. Then the decode stage's work per image in ms, summed over the decode threads.
     */
    private void putStages(ObjectNode out, Map<String, Double> before, Map<String, Double> after, double besideSeconds,
                           double wallSeconds) {
        ObjectNode stages = out.putObject("stageSeconds");
        ObjectNode shares = out.putObject("stageShares");
        double accounted = -besideSeconds;
        for (String stage : InferenceMetrics.STAGES) {
            double spent = after.get(stage) - before.get(stage);
            accounted += spent;
            stages.put(stage, round(spent));
            shares.put(stage, round(spent / wallSeconds));
        }
        stages.put("other", round(wallSeconds - accounted));
        shares.put("other", round((wallSeconds - accounted) / wallSeconds));
        out.put("besideSeconds", round(besideSeconds));
        ObjectNode perImage = out.putObject("decodeMsPerImage");
        for (String part : InferenceMetrics.IMAGE_PARTS) {
            perImage.put(part, round((after.get("image." + part) - before.get("image." + part)) * 1000 / count));
        }
    }

    /**
     * The throughput run's CPU seconds by thread group ({@link ThreadCpu}), this process's total, and what the run's wall
     * time on every core leaves: the broker and other processes, or idle cores.
     */
    private static void putCpu(ObjectNode out, Map<String, Double> byGroup, double wallSeconds) {
        ObjectNode cpu = out.putObject("cpuSeconds");
        byGroup.forEach((group, spent) -> cpu.put(group, round(spent)));
        double process = byGroup.values().stream().mapToDouble(Double::doubleValue).sum();
        cpu.put("process", round(process));
        cpu.put("otherProcessesOrIdle", round(Runtime.getRuntime().availableProcessors() * wallSeconds - process));
    }

    /** Deletes the bench's topics and group left by an earlier run (they are deleted at the next run, not at exit:
     *  the channel's consumer still holds the group until the application stops). */
    private void clear(Admin admin, List<String> topics) throws Exception {
        try {
            admin.deleteConsumerGroups(List.of(settings.group())).all().get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                throw e;
            }
        }
        Set<String> existing = admin.listTopics().names().get();
        List<String> old = topics.stream().filter(existing::contains).toList();
        if (!old.isEmpty()) {
            try {
                admin.deleteTopics(old).all().get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
            }
            long deadline = System.currentTimeMillis() + 30_000;
            while (admin.listTopics().names().get().stream().anyMatch(old::contains) && System.currentTimeMillis() < deadline) {
                Thread.sleep(100); // deletion completes asynchronously
            }
        }
    }

    /** Sends {@code n} images (at {@code perSecond}, or as fast as possible when 0) and returns each one's send-to-prediction ms. */
    private double[] sendAndAwait(KafkaProducer<byte[], byte[]> producer, KafkaConsumer<byte[], byte[]> reader, String topic,
                                  List<byte[]> files, String prefix, int n, double perSecond) throws Exception {
        Map<String, Long> sentAt = new HashMap<>();
        java.util.concurrent.atomic.AtomicReference<String> refused = new java.util.concurrent.atomic.AtomicReference<>();
        double[] latencies = new double[n];
        int received = 0;
        long begin = System.nanoTime();
        int sent = 0;
        long deadline = System.currentTimeMillis() + 600_000;
        while (received < n) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("only " + received + " of " + n + " predictions within 10 minutes");
            }
            while (sent < n && (perSecond <= 0 || System.nanoTime() - begin >= sent * 1e9 / perSecond)) {
                String key = prefix + sent;
                byte[] image = files.get(sent % files.size());
                sentAt.put(key, System.nanoTime());
                producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), image), (metadata, error) -> {
                    if (error != null) {
                        refused.compareAndSet(null, "Kafka refused a " + image.length + "-byte image (" + error.getMessage()
                                + "); keep the images under the topic's max.message.bytes");
                    }
                });
                sent++;
            }
            producer.flush();
            if (refused.get() != null) {
                // A refused send would never be scored: waiting for its prediction would only time out.
                throw new IllegalStateException(refused.get());
            }
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(perSecond <= 0 ? 100 : 5))) {
                Long at = sentAt.remove(new String(r.key(), StandardCharsets.UTF_8));
                if (at != null) {
                    latencies[received++] = (System.nanoTime() - at) / 1e6;
                }
            }
        }
        return latencies;
    }

    /** Int8 ranges from {@code n} of {@code files}, spread over the set (its class folders are in order). */
    private static ActivationRanges calibrate(LoadedModel loaded, List<byte[]> files, int n) {
        Preprocessor preprocessor = loaded.spec().preprocessor();
        ImageDecoder decoder = new ImageDecoder();
        float[] pixels = new float[n * preprocessor.tensorLength()];
        for (int i = 0; i < n; i++) {
            preprocessor.toTensor(decoder.decode(files.get((int) ((long) i * files.size() / n)), preprocessor.size()).image(), pixels,
                    i * preprocessor.tensorLength());
        }
        return Int8Calibration.measure(loaded, loaded.spec(), pixels, n);
    }

    private double bareThroughput(Classifier classifier, List<byte[]> files, int batch) {
        Preprocessor preprocessor = classifier.preprocessor();
        ImageDecoder decoder = new ImageDecoder();
        int n = Math.max(batch, Math.min(count, files.size()) / batch * batch);
        float[] pixels = new float[batch * preprocessor.tensorLength()];
        List<float[]> batches = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            preprocessor.toTensor(decoder.decode(files.get(i % files.size()), preprocessor.size()).image(), pixels,
                    (i % batch) * preprocessor.tensorLength());
            if (i % batch == batch - 1) {
                batches.add(pixels.clone());
            }
        }
        classifier.topK(batches.get(0), batch, 1);
        long start = System.nanoTime();
        for (float[] b : batches) {
            classifier.topK(b, batch, settings.topK());
        }
        return batches.size() * batch / ((System.nanoTime() - start) / 1e9);
    }

    private List<byte[]> readImages() throws IOException {
        List<byte[]> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(images)) {
            for (Path p : walk.filter(Files::isRegularFile).filter(p -> p.toString().toLowerCase().matches(".*\\.(jpe?g|png)$"))
                    .sorted().limit(Math.max(count, lightCount)).toList()) {
                files.add(Files.readAllBytes(p));
            }
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no .jpg or .png images under " + images);
        }
        return files;
    }

    private LoadedModel loadModel() throws IOException {
        if (model != null) {
            return model.startsWith("s3://") ? ModelSource.fromS3(model, storage.settings()) : ModelSource.fromDirectory(Path.of(model));
        }
        List<String> labels = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(images)) {
            dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).sorted().forEach(labels::add);
        }
        if (labels.isEmpty()) {
            labels = List.of("a", "b");
        }
        return ModelSource.freshlyInitialised(network.network().withLabels(labels), new ModelId("bench", "fresh", null));
    }

    private static double percentile(double[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    /**
     * Waits (up to 10 s) for the service to count {@code inputs} in all: it counts a batch just after publishing its
     * outputs, so the reader can see them first, and a batch counted late would skew the per-batch figures.
     */
    private void awaitCounted(long inputs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (metrics.inputs() < inputs && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
