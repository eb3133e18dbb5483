package dev.petal.ingest;

import dev.petal.common.records.HeaderValues;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.SkippingDeserializer;
import dev.petal.common.records.Headers;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * What {@code petal.train} already holds, per dataset: (dataset, image id) to label and source, read
 * from the beginning to the end offsets seen at the start. Values are skipped. Lets a re-run of a
 * dataset publish only what is new and see label conflicts with its earlier runs; the same photos
 * ingested under another dataset name are that dataset's own records, so training on either name works.
 */
public final class TrainTopicIndex {

    /** {@code split} is the one the record was published with (an earlier run may have used another seed). */
    public record Entry(String label, String split, String source) {}

    private final Map<String, Entry> entries;

    private TrainTopicIndex(Map<String, Entry> entries) {
        this.entries = entries;
    }

    public static TrainTopicIndex empty() {
        return new TrainTopicIndex(Map.of());
    }

    public static TrainTopicIndex read(IngestSettings settings, KafkaClients kafka, String topic) {
        Map<String, Entry> entries = new HashMap<>();
        int timeout = (int) settings.brokerTimeout().toMillis();
        // Keys and headers only, in large fetches: the values are skipped unread.
        Map<String, Object> reader = Map.of(ConsumerConfig.CLIENT_ID_CONFIG, "petal-ingest-index",
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024, ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 32 * 1024 * 1024,
                ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeout, ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeout);
        try (KafkaConsumer<String, Void> consumer = kafka.consumer(reader, new StringDeserializer(), new SkippingDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions));
            end.entrySet().removeIf(e -> e.getValue() == 0);
            long deadline = System.nanoTime() + settings.brokerTimeout().toNanos();
            while (!end.isEmpty()) {
                var records = consumer.poll(Duration.ofMillis(500));
                if (!records.isEmpty()) {
                    deadline = System.nanoTime() + settings.brokerTimeout().toNanos();
                } else if (System.nanoTime() > deadline) {
                    throw new IngestFailedException("reading " + topic + " made no progress for "
                            + settings.brokerTimeout().toSeconds() + " s");
                }
                for (ConsumerRecord<String, Void> record : records) {
                    if (record.key() != null) {
                        entries.putIfAbsent(key(HeaderValues.text(record, Headers.DATASET), record.key()), new Entry(HeaderValues.text(record, Headers.LABEL),
                                HeaderValues.text(record, Headers.SPLIT), HeaderValues.text(record, Headers.SOURCE)));
                    }
                }
                end.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
            }
        } catch (TimeoutException e) {
            throw TopicProvisioner.unreachable(settings, kafka.bootstrapServers(), e);
        } catch (KafkaException e) {
            throw new IngestFailedException("cannot read " + topic + ": " + e.getMessage(), e);
        }
        return new TrainTopicIndex(entries);
    }

    /** What dataset {@code dataset} already holds of the image {@code sha256}, or null. */
    public Entry get(String dataset, String sha256) {
        return entries.get(key(dataset, sha256));
    }

    private static String key(String dataset, String sha256) {
        return (dataset == null ? "" : dataset) + '\n' + sha256;
    }

    public int size() {
        return entries.size();
    }
}
