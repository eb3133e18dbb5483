package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.storage.ObjectStore;
import dev.petal.inference.model.ModelWatcher;
import dev.petal.inference.scoring.CanaryMonitor;
import dev.petal.inference.scoring.CanaryRouter;
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
import org.junit.jupiter.api.Test;

/**
 * Automatic rollback of a canary: the champion is a model trained here on the shapes; the challenger has its weights
 * with the labels shuffled (rotated by one), so on labelled inputs it is nearly always wrong. Once both routes' windows
 * are full, the canary stops (P to 0), a petal.models event says why, and every later input is scored by the champion.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@TestProfile(CanaryRollbackTest.Profile.class)
class CanaryRollbackTest {
    static final String MODEL = "canary-rollback";
    static final String IN = "canaryrb.images";
    static final String OUT = "canaryrb.predictions";
    static final ObjectMapper JSON = new ObjectMapper();

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.ofEntries(Map.entry("petal.inference.model-name", MODEL), Map.entry("petal.inference.group", "canary-rollback"),
                    Map.entry("petal.inference.input-topic", IN), Map.entry("petal.inference.output-topic", OUT),
                    Map.entry("petal.inference.dead-letter-topic", "canaryrb.dlq"), Map.entry("petal.inference.poll-interval", "2s"),
                    Map.entry("petal.inference.device", "cpu"), Map.entry("petal.inference.canary-percent", "50"),
                    Map.entry("petal.inference.canary-window", "40"), Map.entry("petal.inference.canary-promote", "true"),
                    Map.entry("quarkus.http.test-port", "0"));
        }
    }

    @Inject
    InferenceService service;
    @Inject
    ModelWatcher watcher;
    @Inject
    CanaryRouter router;
    @Inject
    CanaryMonitor monitor;

    @Test
    void aChallengerWithShuffledLabelsIsStoppedAndNotPromoted() throws Exception {
        LocalStack stack = LocalStack.shared();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(IN, 2, (short) 1), new NewTopic(OUT, 2, (short) 1), new NewTopic("canaryrb.dlq", 1, (short) 1)))
                    .all().get();
        }
        byte[] weights = TestModels.trainedWeights();
        List<String> shuffled = new ArrayList<>(SyntheticShapes.LABELS);
        java.util.Collections.rotate(shuffled, 1);
        try (ObjectStore objects = stack.objectStore();
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                     new ByteArraySerializer(), new ByteArraySerializer());
             TopicReader predictions = new TopicReader(stack.bootstrapServers(), OUT);
             TopicReader events = new TopicReader(stack.bootstrapServers(), Topics.MODELS)) {
            CheckpointStore store = new CheckpointStore(objects);
            store.publish(TestModels.draft(MODEL, "good"), Map.of(CheckpointManifest.WEIGHTS_FILE, weights));
            store.publish(TestModels.draft(MODEL, "shuffled", shuffled), Map.of(CheckpointManifest.WEIGHTS_FILE, weights));
            TestModels.promote(objects, producer, MODEL, "good");
            TestModels.moveAlias(objects, producer, MODEL, ModelRegistry.CHALLENGER, "shuffled");
            service.start();
            long deadline = System.currentTimeMillis() + 120_000;
            while (!watcher.canaryHolder().version().isPresent() && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertEquals("shuffled", watcher.canaryHolder().version().orElse("none"));

            int n = 300;
            for (int i = 0; i < n; i++) {
                SyntheticShapes.Sample s = TestModels.shape(10_000 + i);
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(IN, ("rb-" + i).getBytes(StandardCharsets.UTF_8), TestModels.encode(s.image(), "png"));
                r.headers().add(Headers.LABEL, s.labelName().getBytes(StandardCharsets.UTF_8));
                producer.send(r);
            }
            producer.flush();
            List<ConsumerRecord<byte[], byte[]>> out = predictions.await(r -> true, n, Duration.ofSeconds(180));
            assertEquals(n, out.size());
            assertEquals(0, router.percent(), "the canary stopped");
            Map<String, Object> decision = monitor.decision();
            assertNotNull(decision, "a decision was taken");
            assertEquals("stopped", decision.get("decision"), String.valueOf(decision));
            assertTrue(String.valueOf(decision.get("reason")).contains("accuracy"), String.valueOf(decision.get("reason")));
            assertEquals("good", new ModelRegistry(objects).resolve(MODEL, ModelRegistry.CHAMPION).orElseThrow(), "not promoted");

            // Once stopped, every input goes to the champion: the last predictions carry no canary route.
            int champion = 0;
            for (ConsumerRecord<byte[], byte[]> r : out) {
                JsonNode p = JSON.readTree(r.value());
                champion += "champion".equals(p.path("route").asText()) || p.path("route").isMissingNode() ? 1 : 0;
            }
            ConsumerRecord<byte[], byte[]> last = out.get(out.size() - 1);
            assertTrue(JSON.readTree(last.value()).path("route").isMissingNode(), "after the stop predictions are the champion's, untagged");
            assertTrue(champion > n / 2, champion + " of " + n + " by the champion");

            // The event that says why.
            List<ConsumerRecord<byte[], byte[]>> said = events.await(r -> r.key() != null
                    && new String(r.key(), StandardCharsets.UTF_8).equals(MODEL + "@canary"), 1, Duration.ofSeconds(30));
            assertEquals(1, said.size(), "one canary event");
            JsonNode event = JSON.readTree(said.get(0).value());
            assertEquals("stopped", event.path("decision").asText());
            assertEquals("shuffled", event.path("challenger").asText());
            System.out.println("canary rollback: " + event.path("reason").asText());
        }
    }
}
