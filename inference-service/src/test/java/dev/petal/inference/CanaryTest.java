package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.records.Headers;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.storage.ObjectStore;
import dev.petal.inference.model.ModelWatcher;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

/**
 * A canary at 10% on the real broker and S3 server: of 1,000 keyed images, 10% +- 2% are scored by the challenger, each
 * key's route is the one Kafka's murmur2 of its bytes mod 100 gives (below 10: canary), and sending the same keys again
 * takes the same routes. No decision is taken (the window is larger than the stream).
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@TestProfile(CanaryTest.Profile.class)
class CanaryTest {
    static final String MODEL = "canary-test";
    static final String IN = "canary.images";
    static final String OUT = "canary.predictions";
    static final ObjectMapper JSON = new ObjectMapper();

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("petal.inference.model-name", MODEL, "petal.inference.group", "canary-test",
                    "petal.inference.input-topic", IN, "petal.inference.output-topic", OUT, "petal.inference.dead-letter-topic", "canary.dlq",
                    "petal.inference.poll-interval", "2s", "petal.inference.device", "cpu", "petal.inference.canary-percent", "10",
                    "petal.inference.canary-window", "100000", "quarkus.http.test-port", "0");
        }
    }

    @Inject
    InferenceService service;
    @Inject
    ModelWatcher watcher;

    @Test
    void tenPercentOfKeysGoToTheChallengerAndEveryKeyKeepsItsRoute() throws Exception {
        LocalStack stack = LocalStack.shared();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(IN, 3, (short) 1), new NewTopic(OUT, 3, (short) 1), new NewTopic("canary.dlq", 1, (short) 1)))
                    .all().get();
        }
        try (ObjectStore objects = stack.objectStore();
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                     ProducerConfig.LINGER_MS_CONFIG, 5), new ByteArraySerializer(), new ByteArraySerializer());
             TopicReader predictions = new TopicReader(stack.bootstrapServers(), OUT)) {
            CheckpointStore store = new CheckpointStore(objects);
            store.publish(TestModels.draft(MODEL, "c1"), Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(21)));
            store.publish(TestModels.draft(MODEL, "c2"), Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(22)));
            TestModels.promote(objects, producer, MODEL, "c1");
            TestModels.moveAlias(objects, producer, MODEL, ModelRegistry.CHALLENGER, "c2");
            service.start();
            long deadline = System.currentTimeMillis() + 120_000;
            while (!watcher.canaryHolder().version().isPresent() && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertEquals("c2", watcher.canaryHolder().version().orElse("none"), "the challenger is loaded for the canary");

            int n = 1000;
            byte[] image = TestModels.png(7);
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(IN, key(i), image));
            }
            producer.flush();
            List<ConsumerRecord<byte[], byte[]>> first = predictions.await(r -> true, n, Duration.ofSeconds(300));
            assertEquals(n, first.size(), "one prediction per image");
            Map<String, String> routeOf = new HashMap<>();
            int canary = 0;
            for (ConsumerRecord<byte[], byte[]> r : first) {
                JsonNode p = JSON.readTree(r.value());
                String k = new String(r.key(), StandardCharsets.UTF_8);
                String route = p.path("route").asText();
                String version = p.path("model").path("version").asText();
                // The formula, computed here: Kafka's murmur2 of the key's bytes, made positive, mod 100, below 10.
                boolean expectCanary = Utils.toPositive(Utils.murmur2(r.key())) % 100 < 10;
                assertEquals(expectCanary ? "canary" : "champion", route, k);
                assertEquals(expectCanary ? "c2" : "c1", version, k + " is scored by its route's model");
                assertEquals(route, new String(r.headers().lastHeader(Headers.ROUTE).value(), StandardCharsets.UTF_8));
                routeOf.put(k, route);
                canary += route.equals("canary") ? 1 : 0;
            }
            System.out.printf("canary: %d of %d keyed images (%.2f%%) routed to the challenger%n", canary, n, 100.0 * canary / n);
            assertTrue(canary >= 0.08 * n && canary <= 0.12 * n, canary + " of " + n + " to the challenger");

            // The same keys again (a tenth of them): the same routes.
            for (int i = 0; i < n; i += 10) {
                producer.send(new ProducerRecord<>(IN, key(i), image));
            }
            producer.flush();
            List<ConsumerRecord<byte[], byte[]>> all = predictions.await(r -> true, n + n / 10, Duration.ofSeconds(120));
            assertEquals(n + n / 10, all.size());
            for (ConsumerRecord<byte[], byte[]> r : all.subList(0, all.size())) {
                String k = new String(r.key(), StandardCharsets.UTF_8);
                assertEquals(routeOf.get(k), JSON.readTree(r.value()).path("route").asText(), k + " keeps its route");
            }
        }
    }

    private static byte[] key(int i) {
        return ("canary-key-" + i).getBytes(StandardCharsets.UTF_8);
    }
}
