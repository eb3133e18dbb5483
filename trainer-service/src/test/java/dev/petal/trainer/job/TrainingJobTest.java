package dev.petal.trainer.job;

import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.NetworkSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.Stem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.model.ActivationRanges;
import dev.petal.common.model.LayerPlan;
import dev.petal.common.model.OnnxGraph;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.ManifestSigner;
import dev.petal.common.checkpoint.ManifestVerifier;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.image.ImageDecoder;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.records.HeaderValues;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.report.StepCurve;
import dev.petal.localstack.LocalStack;
import dev.petal.trainer.data.DatasetIndex;
import dev.petal.trainer.data.DeadLetters;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Training from the real topic into the real object store: learning, checkpoint integrity, exact resume. */
class TrainingJobTest {
    private static final String DATASET = "job-test-shapes";
    /** The smallest image the network takes: no claim here depends on the size, and small images train fast. */
    private static final int SIZE = 16;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static LocalStack stack;
    private static CheckpointManifest uninterrupted;

    @BeforeAll
    static void publishDataset() throws Exception {
        stack = LocalStack.shared();
        Properties props = kafka();
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        SyntheticShapes shapes = new SyntheticShapes(SIZE, 5);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < 240; i++) {
                SyntheticShapes.Sample s = shapes.next();
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(s.image(), "png", png);
                byte[] bytes = png.toByteArray();
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.TRAIN, Sha256.hex(bytes), bytes);
                record.headers().add(Headers.LABEL, s.labelName().getBytes(StandardCharsets.UTF_8));
                record.headers().add(Headers.SPLIT, (i % 5 == 0 ? "valid" : "train").getBytes(StandardCharsets.UTF_8));
                record.headers().add(Headers.DATASET, DATASET.getBytes(StandardCharsets.UTF_8));
                producer.send(record);
            }
            // Records no run can use (they go to the DLQ once) must not disturb the run.
            producer.send(new ProducerRecord<>(Topics.TRAIN, "no-label", "x".getBytes()));
            ProducerRecord<String, byte[]> badSplit = new ProducerRecord<>(Topics.TRAIN, "bad-split", "y".getBytes());
            badSplit.headers().add(Headers.LABEL, "circle".getBytes(StandardCharsets.UTF_8));
            badSplit.headers().add(Headers.SPLIT, "test".getBytes(StandardCharsets.UTF_8));
            producer.send(badSplit);
            ProducerRecord<String, byte[]> notAnImage = new ProducerRecord<>(Topics.TRAIN, "not-an-image",
                    "<html>a page, not a picture</html>".getBytes(StandardCharsets.UTF_8));
            notAnImage.headers().add(Headers.LABEL, "circle".getBytes(StandardCharsets.UTF_8));
            notAnImage.headers().add(Headers.SPLIT, "train".getBytes(StandardCharsets.UTF_8));
            notAnImage.headers().add(Headers.DATASET, "another-dataset".getBytes(StandardCharsets.UTF_8));
            producer.send(notAnImage);
            producer.flush();
        }
    }

    /** The service's clients for the stack (common's KafkaClients), as a training run gets them. */
    private static KafkaClients clients() {
        return KafkaClients.of(Map.of("bootstrap.servers", stack.bootstrapServers()));
    }

    private static Properties kafka() {
        Properties props = new Properties();
        props.put("bootstrap.servers", stack.bootstrapServers());
        return props;
    }

    private static Recipe recipe(String model, int epochs) {
        Recipe seed = Recipe.seedRecipe();
        // Prefetch left to the device (0 here: batches decoded between steps); the resume test's
        // runs decode 4 ahead, and must still match this run bit for bit.
        return Recipe.builder().modelName(model).network(new NetworkSpec(Architecture.RESNET18, SIZE, Stem.SMALL, Normalization.IMAGENET))
                .epochs(epochs).batchSize(16).lr(2e-3f).weightDecay(1e-4f).warmupIters(5).seed(7).device("cpu").zeroInitResidual(true)
                .cacheMegabytes(64).dataset(DATASET).build();
    }

    @Test
    void learnsWellAboveChanceAndPublishesAVerifiableCheckpoint() throws Exception {
        String hmac = "hmac-sha256:" + Base64.getEncoder().encodeToString("a trainer secret of 32 bytes...".getBytes(StandardCharsets.UTF_8));
        // Validated from epoch 4: the first three publish their training metrics only, and only validated epochs compete.
        Recipe recipe = recipe("job-learns", 6).toBuilder().validateFromEpoch(4).build();
        TrainingJob.Result result = new TrainingJob(recipe, clients(), stack.s3Settings(), ImageLimits.defaults(), null)
                .signedWith(ManifestSigner.parse(hmac)).run();
        CheckpointManifest manifest = result.manifest();
        double accuracy = ((Number) manifest.metrics().get("validAccuracy")).doubleValue();
        assertTrue(accuracy >= 0.6, "valid accuracy " + accuracy + " (chance 0.25)");
        assertEquals(6, manifest.epoch());
        assertEquals(List.of("circle", "cross", "square", "triangle"), manifest.model().labels());
        assertEquals(6, result.history().size());
        for (int epoch = 1; epoch <= 6; epoch++) {
            Map<String, Object> metrics = result.history().get(epoch - 1);
            assertEquals(epoch >= 4, metrics.containsKey("validAccuracy"), "epoch " + epoch + ": " + metrics.keySet());
            assertTrue(metrics.containsKey("trainLoss"), "epoch " + epoch + " still reports its training");
        }
        assertTrue(result.gate().version().matches(".*-e00[4-6]"), "only a validated epoch is promoted: " + result.gate());

        CheckpointStore store = new CheckpointStore(stack.objectStore());
        assertEquals(manifest.version(), store.latestVersion("job-learns").orElseThrow());
        // A validated version carries its int8 calibration, as stored: a range for the input and every site, and
        // none below 0 where a ReLU ends the site (each block's output).
        ActivationRanges ranges = store.manifest("job-learns", manifest.version()).activationRanges();
        LayerPlan plan = manifest.model().plan();
        Set<String> sites = new HashSet<>(OnnxGraph.sites(plan));
        sites.add(ActivationRanges.INPUT);
        assertEquals(sites, ranges.sites().keySet());
        ranges.sites().forEach((site, range) -> assertTrue(range.min() <= range.max(), site + " " + range));
        plan.blocks().forEach(block -> assertTrue(ranges.of(block.name()).min() >= 0, block.name() + " ends in a ReLU"));
        CheckpointStore.Checkpoint fetched = store.fetch(store.manifest("job-learns", manifest.version()));
        assertTrue(fetched.files().keySet().containsAll(List.of(CheckpointManifest.WEIGHTS_FILE, TrainingJob.OPTIMIZER_FILE,
                TrainingJob.METRICS_FILE, TrainingJob.STEPS_FILE, TrainingJob.REPORT_FILE)), fetched.files().keySet().toString());
        String report = new String(fetched.files().get(TrainingJob.REPORT_FILE), StandardCharsets.UTF_8);
        assertTrue(report.contains("Training loss per step") && report.contains("Confusion matrix"), "curves and the matrix");
        StepCurve.Points steps = StepCurve.fromJson(fetched.files().get(TrainingJob.STEPS_FILE)).points();
        assertEquals(manifest.step(), steps.size(), "every step of a short run");
        assertEquals(manifest.step(), steps.steps()[steps.size() - 1]);
        assertTrue(steps.learningRate()[0] < steps.learningRate()[5], "the warm-up shows");
        try (var objects = stack.objectStore()) { // signed as stored: what inference checks with petal.checkpoint.verify-key
            ManifestVerifier.parse(hmac).verify(objects.get(CheckpointStore.versionPrefix("job-learns", manifest.version())
                    + CheckpointManifest.MANIFEST_FILE), manifest.version());
        }
        assertTrue(manifest.dataset().offsets().values().stream().mapToLong(r -> r.get(1) - r.get(0)).sum() >= 240);

        // One event per stored version. An epoch's version still waiting for storage when the next epoch ends is
        // replaced by it (CheckpointPublisher), so there may be fewer versions than epochs, never more.
        List<JsonNode> events = modelEvents("job-learns");
        assertTrue(events.size() >= 1 && events.size() <= 6, events.size() + " petal.models events for 6 epochs");
        for (JsonNode event : events) {
            String version = event.path("manifest").path("version").asText();
            assertEquals("models/job-learns/" + version + "/manifest.json", event.path("key").asText());
            assertEquals(version, store.manifest("job-learns", version).version(), "an announced version is in storage");
        }
        assertEquals(manifest.version(), events.get(events.size() - 1).path("manifest").path("version").asText(), "the last is the run's");
    }

    /**
     * The uninterrupted run both resume tests compare with (two epochs at batch 8, no mid-epoch checkpoints): trained
     * once, since it is the same run for both.
     */
    private static synchronized CheckpointManifest uninterruptedRun() throws Exception {
        if (uninterrupted == null) {
            uninterrupted = new TrainingJob(withBatch(recipe("job-straight", 2), 8, 0, false), clients(), stack.s3Settings(),
                    ImageLimits.defaults(), null).run().manifest();
        }
        return uninterrupted;
    }

    @Test
    void resumeAfterAnInterruptionEqualsAnUninterruptedRun() throws Exception {
        CheckpointManifest straight = uninterruptedRun();
        Recipe interrupted = withBatch(recipe("job-resumed", 2), 8, 0, false);
        Recipe firstHalf = interrupted.toBuilder().stopAfterEpochs(1).prefetchBatches(4).build();
        assertEquals(1, new TrainingJob(firstHalf, clients(), stack.s3Settings(), ImageLimits.defaults(), null).run().manifest().epoch());
        Recipe resume = Recipe.builder().modelName(interrupted.modelName()).device("cpu").resume(true).prefetchBatches(4)
                .cacheMegabytes(64).precision(Precision.BF16).build(); // the checkpoint's recipe wins
        CheckpointManifest resumed = new TrainingJob(resume, clients(), stack.s3Settings(), ImageLimits.defaults(), null).run().manifest();
        assertEquals(2, resumed.epoch());
        assertEquals(straight.step(), resumed.step());
        assertEquals(straight.metrics().get("trainLoss"), resumed.metrics().get("trainLoss"));
        CheckpointStore store = new CheckpointStore(stack.objectStore());
        assertArrayEquals(store.fetch(straight).weights(), store.fetch(resumed).weights(), "same weights, bit for bit");
        StepCurve.Points straightSteps = StepCurve.fromJson(store.fetch(straight).files().get(TrainingJob.STEPS_FILE)).points();
        StepCurve.Points resumedSteps = StepCurve.fromJson(store.fetch(resumed).files().get(TrainingJob.STEPS_FILE)).points();
        assertArrayEquals(straightSteps.loss(), resumedSteps.loss(), "the resumed run continues the per-step curve");
        assertArrayEquals(straightSteps.learningRate(), resumedSteps.learningRate());
        JsonNode history = JSON.readTree(store.fetch(resumed).files().get(TrainingJob.METRICS_FILE));
        assertEquals(24, history.get(0).path("trainImageSize").asInt(), "epoch 1 at the early size");
        assertEquals(SIZE, history.get(1).path("trainImageSize").asInt());
    }

    @Test
    void aCrashMidEpochResumesFromTheMidEpochCheckpointAndEqualsAnUninterruptedRun() throws Exception {
        CheckpointManifest reference = uninterruptedRun();

        // Checkpoint every second, slow the steps down so that several fall inside an epoch, and
        // crash at the first step after a mid-epoch version is in storage.
        AtomicReference<CheckpointManifest> midEpoch = new AtomicReference<>();
        TrainingListener crashing = new TrainingListener() {
            @Override
            public void onStep(int epoch, long step, long totalSteps, float loss, double imagesPerSecond) {
                if (midEpoch.get() != null) {
                    throw new IllegalStateException("simulated crash at step " + step);
                }
                sleep(150);
            }

            @Override
            public void onPublished(CheckpointManifest manifest) {
                if (manifest.metrics().containsKey(TrainingJob.EPOCH_PROGRESS)) {
                    midEpoch.compareAndSet(null, manifest);
                }
            }
        };
        Recipe crashRun = withBatch(recipe("job-mid-resumed", 2), 8, 1, false);
        IllegalStateException crash = assertThrows(IllegalStateException.class,
                () -> new TrainingJob(crashRun, clients(), stack.s3Settings(), ImageLimits.defaults(), crashing).run());
        assertTrue(crash.getMessage().startsWith("simulated crash"), crash.getMessage());
        CheckpointStore store = new CheckpointStore(stack.objectStore());
        CheckpointManifest latest = store.manifest("job-mid-resumed", store.latestVersion("job-mid-resumed").orElseThrow());
        assertTrue(latest.metrics().containsKey(TrainingJob.EPOCH_PROGRESS), "latest is mid-epoch: " + latest.version());
        assertTrue(latest.step() % 24 != 0, "stopped inside an epoch at step " + latest.step());

        TrainingJob.Result resumed = new TrainingJob(withBatch(crashRun, 8, 0, true), clients(), stack.s3Settings(),
                ImageLimits.defaults(), null).run();
        assertEquals(reference.step(), resumed.manifest().step());
        assertEquals(reference.metrics().get("trainLoss"), resumed.manifest().metrics().get("trainLoss"));
        assertEquals(reference.metrics().get("validAccuracy"), resumed.manifest().metrics().get("validAccuracy"));
        assertArrayEquals(store.fetch(reference).weights(), store.fetch(resumed.manifest()).weights(), "same weights, bit for bit");
    }

    @Test
    void anObjectStorageOutageDuringUploadIsRetriedWhileTrainingGoesOn() throws Exception {
        AtomicInteger retries = new AtomicInteger();
        AtomicInteger stepsWhileDown = new AtomicInteger();
        List<String> published = new CopyOnWriteArrayList<>();
        // Storage comes back once an upload has failed and training has stepped on meanwhile (at most 2 minutes):
        // on a busy machine a fixed delay could end before the checkpoint is even written.
        Thread restarter = new Thread(() -> {
            long deadline = System.nanoTime() + 120_000_000_000L;
            while ((retries.get() == 0 || stepsWhileDown.get() == 0) && System.nanoTime() < deadline) {
                sleep(200);
            }
            stack.s3().start();
        });
        TrainingListener outage = new TrainingListener() {
            @Override
            public void onEpoch(int epoch, double trainLoss, double validAccuracy) {
                if (epoch == 1) {
                    stack.s3().stop(); // just before epoch 1's checkpoint is handed to the uploader
                    restarter.start();
                }
            }

            @Override
            public void onStep(int epoch, long step, long totalSteps, float loss, double imagesPerSecond) {
                if (!stack.s3().isRunning()) {
                    stepsWhileDown.incrementAndGet();
                }
            }

            @Override
            public void onUploadRetry(String version, int attempt, Exception cause) {
                retries.incrementAndGet();
            }

            @Override
            public void onPublished(CheckpointManifest manifest) {
                published.add(manifest.version());
            }
        };
        CheckpointManifest last;
        try {
            last = new TrainingJob(recipe("job-outage", 2), clients(), stack.s3Settings(), ImageLimits.defaults(), outage).run().manifest();
        } finally {
            restarter.join();
        }
        assertTrue(retries.get() > 0, "the upload was retried");
        assertTrue(stepsWhileDown.get() > 0, "training went on while storage was down");
        assertEquals(2, published.size(), published.toString());
        assertEquals(2, last.epoch());
        CheckpointStore store = new CheckpointStore(stack.objectStore());
        assertEquals(last.version(), store.latestVersion("job-outage").orElseThrow());
        for (String version : published) {
            CheckpointManifest manifest = store.manifest("job-outage", version);
            assertEquals(5, store.fetch(manifest).files().size(), version + " is complete and its hashes verify");
        }
        assertEquals(published.get(0), last.parentVersion());
    }

    @Test
    void recordsNoRunCanUseAreDeadLetteredExactlyOnce() throws Exception {
        new TrainingJob(recipe("job-dead-letters", 1), clients(), stack.s3Settings(), ImageLimits.defaults(), null).run();
        // The next run scans the same records again (here: only the scan and the dead-lettering step).
        Properties consumer = kafka();
        consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> reader = new KafkaConsumer<>(consumer);
             var producer = clients().producer();
             DeadLetters deadLetters = DeadLetters.open(clients(), producer, Topics.TRAIN)) {
            DatasetIndex again = DatasetIndex.scan(reader, Topics.TRAIN, null, null, DATASET, new ImageDecoder(ImageLimits.defaults()), 0,
                    TrainingJob.DEFAULT_MAX_LABELS, deadLetters::offer);
            assertEquals(3, again.badTotal());
            assertEquals(0, deadLetters.finish(again.offsets(), again.badCounts()), "already dead-lettered by an earlier scan");
        }
        Map<String, String> classByKey = new HashMap<>();
        for (ConsumerRecord<String, String> r : readAll(Topics.DLQ)) {
            assertEquals(Topics.TRAIN, header(r, Headers.SOURCE_TOPIC));
            assertEquals(null, classByKey.put(r.key(), header(r, Headers.ERROR_CLASS)), "dead-lettered twice: " + r.key());
            assertTrue(header(r, Headers.ERROR_REASON).length() > 3);
        }
        assertEquals(Map.of("no-label", "missing-label", "bad-split", "bad-split", "not-an-image", "not-an-image"), classByKey);
    }

    @Test
    void aRetriedPublishFinishesTheSameVersionButNeverRewritesAnother() throws Exception {
        CheckpointStore store = new CheckpointStore(stack.objectStore());
        CheckpointManifest draft = new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, "job-retry", "v1", null,
                "2026-11-28T00:00:00Z", new NetworkSpec(Architecture.RESNET18, 32, Stem.SMALL, Normalization.IMAGENET).withLabels(List.of("a", "b")),
                Map.of(), 1, 1, Map.of(), null, null, null);
        Map<String, byte[]> files = Map.of(CheckpointManifest.WEIGHTS_FILE, new byte[] {1, 2, 3});
        store.publish(draft, files);
        // As after a failure between the manifest and latest: latest still points elsewhere.
        try (var objects = stack.objectStore()) {
            objects.put(CheckpointStore.latestKey("job-retry"), "v0".getBytes(StandardCharsets.UTF_8));
        }
        store.publish(draft, files);
        assertEquals("v1", store.latestVersion("job-retry").orElseThrow());
        Map<String, byte[]> other = Map.of(CheckpointManifest.WEIGHTS_FILE, new byte[] {9});
        assertThrows(IllegalStateException.class, () -> store.publish(draft, other), "versions are immutable");
        assertArrayEquals(new byte[] {1, 2, 3}, store.fetch(store.manifest("job-retry", "v1")).weights());
    }

    /**
     * The resume tests' runs, which must match bit for bit: epoch 1 trains at 24 px and epoch 2 at 16 (a resume keeps
     * the sizes), and each validation first re-estimates the BatchNorm statistics (which the next epoch starts from).
     */
    private static Recipe withBatch(Recipe r, int batchSize, int checkpointInterval, boolean resume) {
        return r.toBuilder().batchSize(batchSize).checkpointIntervalSeconds(checkpointInterval).resume(resume).warmStart(false)
                .earlyImageSize(24).earlyEpochs(1).recalibrationImages(40).build();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String header(ConsumerRecord<?, ?> r, String name) {
        return HeaderValues.text(r, name);
    }

    private static List<ConsumerRecord<String, String>> readAll(String topic) {
        Properties props = kafka();
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<ConsumerRecord<String, String>> all = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                consumer.poll(Duration.ofMillis(500)).forEach(all::add);
            }
        }
        return all;
    }

    private static List<JsonNode> modelEvents(String model) throws Exception {
        Properties props = kafka();
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<JsonNode> events = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            TopicPartition tp = new TopicPartition(Topics.MODELS, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    if (model.equals(r.key())) {
                        events.add(JSON.readTree(r.value()));
                    }
                }
            }
        }
        return events;
    }
}
