package dev.petal.localstack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.petal.common.records.Topics;
import dev.petal.common.storage.NoSuchObjectException;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.ObjectStoreException;
import dev.petal.common.storage.S3Settings;

/** The JVM-wide stack, as other modules' tests see it. */
@ExtendWith(LocalStackExtension.class)
class LocalStackTest {

    @Test
    void createsThePetalTopicsWithTheirPartitionCounts(LocalStack stack) throws Exception {
        try (Admin admin = stack.kafka().admin()) {
            Map<String, TopicDescription> topics =
                    admin.describeTopics(LocalStack.TOPICS.keySet()).allTopicNames().get(30, TimeUnit.SECONDS);
            LocalStack.TOPICS.forEach((name, partitions) ->
                    assertEquals(partitions, topics.get(name).partitions().size(), name));
            // The dataset and the model events are kept forever, by time and size; model events are
            // compacted on the model name. Each set on the topic, not inherited from the broker.
            Map<String, Map<String, String>> expected = Map.of(
                    Topics.TRAIN, Map.of("retention.ms", "-1", "retention.bytes", "-1"),
                    Topics.MODELS, Map.of("retention.ms", "-1", "retention.bytes", "-1", "cleanup.policy", "compact"));
            expected.forEach((topic, settings) -> {
                ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
                Config config;
                try {
                    config = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                settings.forEach((name, value) -> {
                    assertEquals(value, config.get(name).value(), topic + " " + name);
                    assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, config.get(name).source(), topic + " " + name);
                });
            });
        }
        assertEquals(Map.of(Topics.TRAIN, 3, Topics.IMAGES, 6, Topics.PREDICTIONS, 6, Topics.PREDICTIONS_SHADOW, 6, Topics.MODELS, 1, Topics.DLQ, 3),
                LocalStack.TOPICS);
    }

    @Test
    void producesAndConsumesOverTheWire(LocalStack stack) throws Exception {
        byte[] image = "not really a jpeg".getBytes(StandardCharsets.UTF_8);
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.IMAGES, "my-id", image);
        record.headers().add("content-type", "image/jpeg".getBytes(StandardCharsets.UTF_8));
        RecordMetadata sent = KafkaClients.send(stack.bootstrapServers(), record);

        List<ConsumerRecord<String, byte[]>> received =
                KafkaClients.read(stack.bootstrapServers(), "round-trip", Topics.IMAGES, 1);
        assertEquals(1, received.size());
        ConsumerRecord<String, byte[]> got = received.get(0);
        assertEquals("my-id", got.key());
        assertArrayEquals(image, got.value());
        assertEquals("image/jpeg", new String(got.headers().lastHeader("content-type").value(), StandardCharsets.UTF_8));
        assertEquals(sent.partition(), got.partition());
        assertEquals(sent.offset(), got.offset());
    }

    @Test
    void storesObjects(LocalStack stack, @TempDir Path tmp) throws Exception {
        try (ObjectStore store = stack.objectStore()) {
            store.put("models/test/v1/weights", new byte[] {1, 2, 3});
            Path manifest = Files.writeString(tmp.resolve("manifest.json"), "{\"epoch\": 1}");
            store.put("models/test/v1/manifest.json", manifest);

            assertArrayEquals(new byte[] {1, 2, 3}, store.get("models/test/v1/weights"));
            assertTrue(store.exists("models/test/v1/manifest.json"));
            assertEquals(List.of("models/test/v1/manifest.json", "models/test/v1/weights"), store.list("models/test/"));

            Path copy = tmp.resolve("deep/copy.json");
            store.download("models/test/v1/manifest.json", copy);
            assertEquals("{\"epoch\": 1}", Files.readString(copy));

            store.delete("models/test/v1/weights");
            assertFalse(store.exists("models/test/v1/weights"));
            NoSuchObjectException missing = assertThrows(NoSuchObjectException.class, () -> store.get("models/test/v1/weights"));
            assertEquals("petal", missing.bucket());
            assertEquals("models/test/v1/weights", missing.key());
            assertThrows(NoSuchObjectException.class, () -> store.download("nope", tmp.resolve("nope")));
            assertFalse(Files.exists(tmp.resolve("nope")), "a failed download leaves no file");
            store.delete("never-existed"); // not an error
        }
    }

    @Test
    void rejectsAWrongSecretKey(LocalStack stack) {
        S3Settings good = stack.s3Settings();
        S3Settings forged = new S3Settings(good.endpoint(), good.region(), good.bucket(), true, good.accessKey(), "wrong");
        try (ObjectStore store = new ObjectStore(forged)) {
            ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> store.put("forged", new byte[] {1}));
            assertFalse(e instanceof NoSuchObjectException);
            assertTrue(e.getMessage().contains("s3://petal/forged"), e.getMessage());
            assertTrue(e.getMessage().contains("403") || e.getMessage().contains("SignatureDoesNotMatch"), e.getMessage());
        }
        try (ObjectStore store = stack.objectStore()) {
            assertFalse(store.exists("forged"));
        }
    }

    @Test
    void clientConfigUsesTheSharedKeys(LocalStack stack) {
        Map<String, String> config = stack.clientConfig();
        assertEquals(stack.bootstrapServers(), config.get("kafka.bootstrap.servers"));
        assertEquals(stack.s3Settings(), S3Settings.fromConfig(config::get));
        assertEquals("petal", config.get("petal.s3.bucket"));
        assertSame(stack, LocalStack.shared());
        stack.close(); // ignored for the shared stack
        assertTrue(stack.kafka().isRunning() && stack.s3().isRunning());
    }

    @Test
    void quarkusTestResourceHandsOverTheConfig(LocalStack stack) {
        LocalStackTestResource resource = new LocalStackTestResource();
        Map<String, String> config = resource.start();
        assertEquals(stack.bootstrapServers(), config.get("kafka.bootstrap.servers"));
        assertEquals(stack.s3().endpoint().toString(), config.get("petal.s3.endpoint"));
        assertEquals("false", config.get("quarkus.kafka.devservices.enabled"));
        assertEquals("WARN", config.get("quarkus.log.category.\"org.gaul\".level"));
        resource.stop();
        assertTrue(stack.kafka().isRunning());
        // Another class loader's copy of the resource finds the same stack through the system property.
        assertNotNull(System.getProperty(LocalStackTestResource.SHARED_CONFIG_PROPERTY));
        assertEquals(stack.clientConfig(), LocalStackTestResource.sharedClientConfig());
    }
}
