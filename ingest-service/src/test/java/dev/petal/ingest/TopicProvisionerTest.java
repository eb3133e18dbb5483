package dev.petal.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.petal.common.records.Topics;
import dev.petal.localstack.EmbeddedKafka;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On a bare broker (no topics yet), ingestion creates its topics with explicit partition counts. */
class TopicProvisionerTest {
    @TempDir
    Path dir;

    @Test
    void createsMissingTopicsWithConfiguredPartitionsAndKeepsTheDatasetForever() throws Exception {
        try (EmbeddedKafka kafka = new EmbeddedKafka(dir).start(); Admin admin = kafka.admin()) {
            IngestSettings settings = IngestSettings.defaults(kafka.bootstrapServers());
            TopicProvisioner.ensure(settings, Topics.TRAIN, Topics.IMAGES, Topics.DLQ);
            TopicProvisioner.ensure(settings, Topics.TRAIN); // existing topics are left alone

            Map<String, Integer> partitions = admin.describeTopics(Set.of(Topics.TRAIN, Topics.IMAGES, Topics.DLQ))
                    .allTopicNames().get().values().stream()
                    .collect(Collectors.toMap(t -> t.name(), t -> t.partitions().size()));
            assertEquals(Map.of(Topics.TRAIN, 3, Topics.IMAGES, 6, Topics.DLQ, 3), partitions);
            ConfigResource train = new ConfigResource(ConfigResource.Type.TOPIC, Topics.TRAIN);
            assertEquals("-1", admin.describeConfigs(List.of(train)).all().get().get(train).get("retention.ms").value());
        }
    }
}
