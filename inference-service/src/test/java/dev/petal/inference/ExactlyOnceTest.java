package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.records.Headers;
import dev.petal.common.storage.ObjectStore;
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
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** {@code petal.inference.exactly-once=true}: outputs and offsets commit in one transaction. */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@TestProfile(ExactlyOnceTest.Profile.class)
class ExactlyOnceTest {
    static final String IN = "eos.images";
    static final String OUT = "eos.predictions";
    static final String DLQ = "eos.dlq";

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("petal.inference.exactly-once", "true", "petal.inference.model-name", "eos-test",
                    "petal.inference.group", "eos-test", "petal.inference.input-topic", IN,
                    "petal.inference.output-topic", OUT, "petal.inference.dead-letter-topic", DLQ,
                    "petal.inference.poll-interval", "1s", "petal.inference.device", "cpu", "quarkus.http.test-port", "0");
        }
    }

    @Inject
    InferenceService service;

    @Test
    void everyInputCommitsWithItsOutputInOneTransaction() throws Exception {
        LocalStack stack = LocalStack.shared();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(IN, 2, (short) 1), new NewTopic(OUT, 2, (short) 1), new NewTopic(DLQ, 1, (short) 1)))
                    .all().get();
            try (ObjectStore objects = stack.objectStore()) {
                new CheckpointStore(objects).publish(TestModels.draft("eos-test", "v1"),
                        Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(5)));
                TestModels.promote(objects, null, "eos-test", "v1");
            }
            service.start();
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                    Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>(IN, ("eos-" + i).getBytes(StandardCharsets.UTF_8), TestModels.png(300 + i))).get();
                }
                producer.send(new ProducerRecord<>(IN, "eos-bad".getBytes(StandardCharsets.UTF_8), "junk".getBytes(StandardCharsets.UTF_8))).get();
            }
            try (TopicReader predictions = new TopicReader(stack.bootstrapServers(), OUT);
                 TopicReader dead = new TopicReader(stack.bootstrapServers(), DLQ)) {
                assertEquals(5, predictions.await(r -> true, 5, Duration.ofSeconds(60)).size(), "read_committed sees the predictions");
                var letters = dead.await(r -> true, 1, Duration.ofSeconds(10));
                assertEquals(1, letters.size());
                assertEquals("not-an-image", new String(letters.get(0).headers().lastHeader(Headers.ERROR_CLASS).value(), StandardCharsets.UTF_8));
                assertEquals(5, predictions.settle(r -> true, Duration.ofSeconds(1)).size(), "no more, no less");
                for (var r : predictions.settle(r -> true, Duration.ZERO)) {
                    assertEquals("v1", new ObjectMapper().readTree(r.value()).path("model").path("version").asText());
                }
            }
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("eos-test")
                    .partitionsToOffsetAndMetadata().get();
            long total = committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
            assertEquals(6, total, "the group's offsets moved past all six inputs: " + committed);
            assertEquals(Set.of(new TopicPartition(IN, 0), new TopicPartition(IN, 1)).containsAll(committed.keySet()), true);
        }
    }
}
