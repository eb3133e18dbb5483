package dev.petal.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import java.time.Duration;
import dev.petal.localstack.EmbeddedKafka;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On a bare broker (no topics yet), ingestion creates its topics with explicit partition counts and the contract's settings. */
class TopicProvisionerTest {
    @TempDir
    Path dir;

    @Test
    void createsMissingTopicsWithConfiguredPartitionsAndKeepsTheDatasetForever() throws Exception {
        try (EmbeddedKafka kafka = new EmbeddedKafka(dir).start(); Admin admin = kafka.admin()) {
            // The partition counts and replication of application.properties.
            IngestSettings settings = new IngestSettings(921600, IngestSettings.partitions(3, 6, 3), (short) 1, 2, 10, 1048576,
                    "none", Duration.ofSeconds(20), Duration.ofSeconds(5));
            KafkaClients clients = KafkaClients.of(Map.of("bootstrap.servers", kafka.bootstrapServers()));
            TopicProvisioner.ensure(settings, clients, Topics.TRAIN, Topics.IMAGES, Topics.DLQ);
            TopicProvisioner.ensure(settings, clients, Topics.TRAIN); // existing topics are left alone

            Map<String, Integer> partitions = admin.describeTopics(Set.of(Topics.TRAIN, Topics.IMAGES, Topics.DLQ))
                    .allTopicNames().get().values().stream()
                    .collect(Collectors.toMap(t -> t.name(), t -> t.partitions().size()));
            assertEquals(Map.of(Topics.TRAIN, 3, Topics.IMAGES, 6, Topics.DLQ, 3), partitions);

            // Set on the topic itself (not the broker's default, which may also read -1): infinite time and size.
            Config train = topicConfig(admin, Topics.TRAIN);
            assertTopicOverride(train, "retention.ms", "-1");
            assertTopicOverride(train, "retention.bytes", "-1");
            assertEquals("delete", train.get("cleanup.policy").value(), "the dataset is never compacted");
            // Images to score are not kept forever: no override, the broker's retention applies.
            assertNotEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG,
                    topicConfig(admin, Topics.IMAGES).get("retention.ms").source());
        }
    }

    static Config topicConfig(Admin admin, String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(List.of(resource)).all().get().get(resource);
    }

    static void assertTopicOverride(Config config, String name, String value) {
        ConfigEntry entry = config.get(name);
        assertEquals(value, entry.value(), name);
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, entry.source(), name + " is set on the topic");
    }
}
