package dev.petal.common.records;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** The valid-split images of one dataset, read back from the dataset topic itself (the demo and the precision check score them). */
public final class ValidSplit {
    /** One held-out image: its id (sha256), true label, bytes, and claim-check reference if it had one. */
    public record Image(String id, String label, byte[] bytes, String imageRef, String source) {}

    private ValidSplit() {}

    /** Reads with a consumer of its own. */
    public static List<Image> read(KafkaClients kafka, String dataset) {
        try (KafkaConsumer<byte[], byte[]> consumer = kafka.reader()) {
            return read(consumer, dataset);
        }
    }

    /** Reads {@link Topics#TRAIN} from its start to its current end with {@code consumer} (outside any group; it is reassigned). */
    public static List<Image> read(KafkaConsumer<byte[], byte[]> consumer, String dataset) {
        List<Image> images = new ArrayList<>();
        List<TopicPartition> partitions = consumer.partitionsFor(Topics.TRAIN, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions));
        while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                if (Headers.SPLIT_VALID.equals(HeaderValues.text(record, Headers.SPLIT))
                        && dataset.equals(HeaderValues.text(record, Headers.DATASET))) {
                    images.add(new Image(
                            record.key() == null ? record.partition() + ":" + record.offset()
                                    : new String(record.key(), StandardCharsets.UTF_8),
                            HeaderValues.text(record, Headers.LABEL), record.value(),
                            HeaderValues.text(record, Headers.IMAGE_REF), HeaderValues.text(record, Headers.SOURCE)));
                }
            }
        }
        return images;
    }
}
