package dev.petal.inference;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads a whole topic from its start, outside any group, and keeps every record seen. */
public final class TopicReader implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<ConsumerRecord<byte[], byte[]>> seen = new ArrayList<>();

    public TopicReader(String bootstrapServers, String topic) {
        consumer = fromBeginning(bootstrapServers, topic);
    }

    /** A consumer of every partition of {@code topic}, from the start, committed records only. */
    static KafkaConsumer<byte[], byte[]> fromBeginning(String bootstrapServers, String topic) {
        return fromBeginning(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), topic);
    }

    /** As above, with a client configuration of its own (a secure stack's login, say). */
    static KafkaConsumer<byte[], byte[]> fromBeginning(Map<String, Object> client, String topic) {
        Map<String, Object> config = new java.util.HashMap<>(client);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    /** Polls until {@code count} records seen so far match, or the timeout passes; returns the matches. */
    public List<ConsumerRecord<byte[], byte[]>> await(Predicate<ConsumerRecord<byte[], byte[]>> match, int count, Duration timeout) {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        List<ConsumerRecord<byte[], byte[]>> matches = matching(match);
        while (matches.size() < count && System.currentTimeMillis() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
            matches = matching(match);
        }
        return matches;
    }

    /** Everything that matches after draining what is there now and waiting {@code settle} for more. */
    public List<ConsumerRecord<byte[], byte[]>> settle(Predicate<ConsumerRecord<byte[], byte[]>> match, Duration settle) {
        long deadline = System.currentTimeMillis() + settle.toMillis();
        while (System.currentTimeMillis() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
        }
        return matching(match);
    }

    private List<ConsumerRecord<byte[], byte[]>> matching(Predicate<ConsumerRecord<byte[], byte[]>> match) {
        return seen.stream().filter(match).toList();
    }

    @Override
    public void close() {
        consumer.close();
    }
}
