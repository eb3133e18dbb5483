package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.records.Topics;
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
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * A shadow replica ({@code petal.inference.mode=shadow}): it serves the challenger under its own consumer group and
 * writes to {@code petal.predictions.shadow} only, nothing to the configured output topic.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@TestProfile(ShadowTest.Profile.class)
class ShadowTest {
    static final String MODEL = "shadow-test";
    static final String IN = "shadow.images";
    static final String OUT = "shadow.predictions";

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("petal.inference.model-name", MODEL, "petal.inference.group", "shadow-test", "petal.inference.mode", "shadow",
                    "petal.inference.input-topic", IN, "petal.inference.output-topic", OUT, "petal.inference.dead-letter-topic", "shadow.dlq",
                    "petal.inference.poll-interval", "2s", "petal.inference.device", "cpu", "quarkus.http.test-port", "0");
        }
    }

    @Inject
    InferenceService service;
    @Inject
    ModelHolder holder;

    @Test
    void servesTheChallengerUnderItsOwnGroupIntoTheShadowTopicOnly() throws Exception {
        assertEquals("shadow-test-shadow", ConfigProvider.getConfig().getValue("mp.messaging.incoming.images.group.id", String.class),
                "a consumer group of its own");
        LocalStack stack = LocalStack.shared();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(IN, 2, (short) 1), new NewTopic(OUT, 2, (short) 1), new NewTopic("shadow.dlq", 1, (short) 1)))
                    .all().get();
            if (!admin.listTopics().names().get().contains(Topics.PREDICTIONS_SHADOW)) {
                admin.createTopics(List.of(new NewTopic(Topics.PREDICTIONS_SHADOW, 2, (short) 1))).all().get();
            }
        }
        ObjectMapper json = new ObjectMapper();
        try (ObjectStore objects = stack.objectStore();
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                     new ByteArraySerializer(), new ByteArraySerializer());
             TopicReader shadow = new TopicReader(stack.bootstrapServers(), Topics.PREDICTIONS_SHADOW);
             TopicReader main = new TopicReader(stack.bootstrapServers(), OUT)) {
            CheckpointStore store = new CheckpointStore(objects);
            store.publish(TestModels.draft(MODEL, "s-champion"), Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(41)));
            store.publish(TestModels.draft(MODEL, "s-challenger"), Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(42)));
            TestModels.promote(objects, producer, MODEL, "s-champion");
            TestModels.moveAlias(objects, producer, MODEL, ModelRegistry.CHALLENGER, "s-challenger");
            service.start();
            int n = 20;
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(IN, ("shadow-" + i).getBytes(StandardCharsets.UTF_8), TestModels.png(60 + i)));
            }
            producer.flush();
            List<ConsumerRecord<byte[], byte[]>> out = shadow.await(r -> r.key() != null
                    && new String(r.key(), StandardCharsets.UTF_8).startsWith("shadow-"), n, Duration.ofSeconds(180));
            assertEquals(n, out.size());
            for (ConsumerRecord<byte[], byte[]> r : out) {
                assertEquals("s-challenger", json.readTree(r.value()).path("model").path("version").asText());
            }
            assertEquals("s-challenger", holder.version().orElseThrow());
            assertEquals(0, main.settle(r -> true, Duration.ofSeconds(2)).size(), "nothing to the main output");
        }
    }
}
