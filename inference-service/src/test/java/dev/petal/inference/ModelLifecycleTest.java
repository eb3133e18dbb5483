package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.records.ModelEvent;
import dev.petal.common.records.Topics;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.storage.ObjectStore;
import dev.petal.inference.model.ModelHolder;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Inference serves an alias, on the real broker and S3 server: it serves the champion, not the newest version; promote
 * and rollback switch serving within 2 s under a steady stream with no input lost or scored twice and, per partition,
 * the versions in the order they were switched to; a version event no alias points at is ignored and counted.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@TestProfile(ModelLifecycleTest.Profile.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ModelLifecycleTest {
    static final String MODEL = "life-test";
    static final String IN = "life.images";
    static final String OUT = "life.predictions";
    static final ObjectMapper JSON = new ObjectMapper();

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // A long poll interval: switching must come from the alias events, not the fallback.
            return Map.of("petal.inference.model-name", MODEL, "petal.inference.group", "life-test",
                    "petal.inference.input-topic", IN, "petal.inference.output-topic", OUT, "petal.inference.dead-letter-topic", "life.dlq",
                    "petal.inference.poll-interval", "60s", "petal.inference.device", "cpu", "petal.inference.max-batch", "8",
                    "quarkus.http.test-port", "0");
        }
    }

    @Inject
    InferenceService service;
    @Inject
    ModelHolder holder;
    @Inject
    InferenceMetrics metrics;
    @Inject
    dev.petal.inference.model.ModelWatcher watcher;

    static KafkaProducer<byte[], byte[]> producer;
    static TopicReader predictions;
    static ObjectStore objects;
    static ModelRegistry registry;

    @BeforeAll
    static void clients() throws Exception {
        LocalStack stack = LocalStack.shared();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(IN, 3, (short) 1), new NewTopic(OUT, 3, (short) 1), new NewTopic("life.dlq", 1, (short) 1)))
                    .all().get();
        }
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 0),
                new ByteArraySerializer(), new ByteArraySerializer());
        predictions = new TopicReader(stack.bootstrapServers(), OUT);
        objects = stack.objectStore();
        // What ./petal model promote and rollback do: move the alias, then announce the move on petal.models.
        registry = new ModelRegistry(objects, move -> {
            try {
                producer.send(new ProducerRecord<>(Topics.MODELS, ModelEvent.aliasKey(move), ModelEvent.aliasValue(move))).get();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @AfterAll
    static void close() {
        producer.close();
        predictions.close();
        objects.close();
    }

    @Test
    @Order(1)
    void servesTheChampionNotTheNewestVersion() throws Exception {
        publish("l0", 10, false); // an old version, never aliased
        publish("l1", 11, false);
        registry.move(MODEL, ModelRegistry.CHAMPION, "l1", AliasMove.PROMOTE, "first", "test", false, null);
        service.start();
        awaitServing("l1", Duration.ofSeconds(60));

        double ignoredBefore = metrics.refusals(InferenceMetrics.NOT_ALIASED);
        publish("l2", 12, true); // newest, and announced as the trainer does: not aliased, so not served
        awaitCount(InferenceMetrics.NOT_ALIASED, ignoredBefore + 1);
        assertEquals("l2", new CheckpointStore(objects).latestVersion(MODEL).orElseThrow(), "latest is the newest");
        assertEquals("l1", holder.version().orElseThrow(), "the champion serves");
        assertEquals("l1", score("after-l2").get("after-l2"));
    }

    @Test
    @Order(2)
    void promoteAndRollbackSwitchServingWithinTwoSecondsNothingLostOrTwice() throws Exception {
        AtomicBoolean sending = new AtomicBoolean(true);
        AtomicInteger sent = new AtomicInteger();
        Thread stream = new Thread(() -> {
            while (sending.get()) {
                int i = sent.getAndIncrement();
                producer.send(new ProducerRecord<>(IN, bytes("switch-" + i), TestModels.png(5000 + i)));
                try {
                    Thread.sleep(15);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        stream.start();
        // The gate made l2 the challenger: inference loads it ahead, beside the champion.
        registry.move(MODEL, ModelRegistry.CHALLENGER, "l2", AliasMove.PROMOTE, "gate: kept out", "test", false, null);
        long deadline = System.currentTimeMillis() + 60_000;
        while (!watcher.warmVersions().contains("l2") && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(watcher.warmVersions().contains("l2"), "the challenger is loaded ahead");
        Thread.sleep(500);

        long promoteMs = switchTime(() -> registry.move(MODEL, ModelRegistry.CHAMPION, "l2", AliasMove.PROMOTE, "better", "test", false, null),
                "l2");
        Thread.sleep(1500);
        long rollbackMs = switchTime(() -> registry.rollback(MODEL, ModelRegistry.CHAMPION, "test rollback", "test"), "l1");
        Thread.sleep(1500);
        // A version that is neither challenger nor recently served loads cold: measured, not held to 2 s.
        publish("l3", 13, false);
        long coldMs = switchTime(() -> registry.move(MODEL, ModelRegistry.CHAMPION, "l3", AliasMove.PROMOTE, "cold", "test", false, null),
                "l3");
        Thread.sleep(1000);
        long rollbackAgainMs = switchTime(() -> registry.rollback(MODEL, ModelRegistry.CHAMPION, "test rollback", "test"), "l1");
        Thread.sleep(1000);
        sending.set(false);
        stream.join();
        producer.flush();
        System.out.printf("model lifecycle: promote of the challenger switched serving in %d ms, rollback in %d ms; a cold promote"
                + " (not loaded ahead) in %d ms, its rollback in %d ms (%d inputs streamed)%n", promoteMs, rollbackMs, coldMs,
                rollbackAgainMs, sent.get());
        assertTrue(promoteMs <= 2000, "promote took " + promoteMs + " ms to serve");
        assertTrue(rollbackMs <= 2000, "rollback took " + rollbackMs + " ms to serve");
        assertTrue(rollbackAgainMs <= 2000, "rollback took " + rollbackAgainMs + " ms to serve");

        int total = sent.get();
        List<ConsumerRecord<byte[], byte[]>> out = predictions.await(r -> key(r).startsWith("switch-"), total, Duration.ofSeconds(120));
        out = predictions.settle(r -> key(r).startsWith("switch-"), Duration.ofSeconds(2));
        Map<String, Integer> perKey = new HashMap<>();
        out.forEach(r -> perKey.merge(key(r), 1, Integer::sum));
        assertEquals(total, perKey.size(), "every input scored");
        assertTrue(perKey.values().stream().allMatch(n -> n == 1), "no input scored twice");

        // Per input partition, in input order, the versions run l1, l2, l1, l3, l1 as switched: never back to one switched away from.
        Map<Integer, TreeMap<Long, String>> byPartition = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : out) {
            var json = JSON.readTree(r.value());
            byPartition.computeIfAbsent(json.path("source").path("partition").asInt(), p -> new TreeMap<>())
                    .put(json.path("source").path("offset").asLong(), json.path("model").path("version").asText());
        }
        List<String> switches = List.of("l1", "l2", "l1", "l3", "l1");
        boolean sawAll = false;
        for (TreeMap<Long, String> inOrder : byPartition.values()) {
            List<String> runs = new ArrayList<>();
            for (String version : inOrder.values()) {
                if (runs.isEmpty() || !runs.get(runs.size() - 1).equals(version)) {
                    runs.add(version);
                }
            }
            assertTrue(runs.size() <= 5 && switches.subList(0, runs.size()).equals(runs), "partition order " + runs);
            sawAll |= runs.size() == 5;
        }
        assertTrue(sawAll, "the stream spans both switches");
        assertEquals(List.of("l1", "l2", "l1", "l3", "l1"), registry.history(MODEL, ModelRegistry.CHAMPION).stream().map(AliasMove::to).toList());
    }

    @Test
    @Order(3)
    void anEventForAnOlderUnaliasedVersionIsIgnoredAndCounted() throws Exception {
        double before = metrics.refusals(InferenceMetrics.NOT_ALIASED);
        announce(new CheckpointStore(objects).manifest(MODEL, "l0"));
        awaitCount(InferenceMetrics.NOT_ALIASED, before + 1);
        assertEquals("l1", holder.version().orElseThrow());
        assertEquals("l1", score("after-l0-event").get("after-l0-event"), "the champion still scores");
    }

    // ---- helpers

    interface Move {
        void run() throws Exception;
    }

    /** Milliseconds from the move being made to the holder serving {@code version}. */
    private long switchTime(Move move, String version) throws Exception {
        long start = System.nanoTime();
        move.run();
        while (!holder.version().map(version::equals).orElse(false)) {
            if (System.nanoTime() - start > 30_000_000_000L) {
                throw new AssertionError(version + " not served 30 s after the move");
            }
            Thread.sleep(5);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    private void awaitServing(String version, Duration timeout) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (!holder.version().map(version::equals).orElse(false) && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(version, holder.version().orElse("none"));
    }

    private void awaitCount(String reason, double expected) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (metrics.refusals(reason) < expected && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(expected, metrics.refusals(reason));
    }

    /** Scores one input; its key to the version that scored it. */
    private static Map<String, String> score(String key) throws Exception {
        producer.send(new ProducerRecord<>(IN, bytes(key), TestModels.png(key.hashCode()))).get();
        List<ConsumerRecord<byte[], byte[]>> out = predictions.await(r -> key.equals(key(r)), 1, Duration.ofSeconds(60));
        assertEquals(1, out.size(), "no prediction for " + key);
        return Map.of(key, JSON.readTree(out.get(0).value()).path("model").path("version").asText());
    }

    private static void publish(String version, int seed, boolean announce) throws Exception {
        CheckpointManifest manifest = new CheckpointStore(objects).publish(TestModels.draft(MODEL, version),
                Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(seed)));
        if (announce) {
            announce(manifest);
        }
    }

    /** The trainer's version event. */
    private static void announce(CheckpointManifest manifest) throws Exception {
        producer.send(new ProducerRecord<>(Topics.MODELS, ModelEvent.key(manifest), ModelEvent.value(manifest))).get();
    }

    private static String key(ConsumerRecord<byte[], byte[]> r) {
        return r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
