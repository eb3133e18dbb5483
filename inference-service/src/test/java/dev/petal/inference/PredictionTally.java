package dev.petal.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * Every prediction on an output topic, read from its start with read_committed (what a user's
 * consumer sees), grouped by key: one entry per key is the contract, none is a gap, two are a duplicate.
 */
final class PredictionTally implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One prediction: the input it names (partition and offset in the input topic) and the model version. */
    record Seen(int partition, long offset, String version) {}

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<String, List<Seen>> byKey = new TreeMap<>();
    private int total;

    PredictionTally(String bootstrapServers, String topic) {
        consumer = TopicReader.fromBeginning(bootstrapServers, topic);
    }

    /** A reader with a client configuration of its own (bootstrap servers, a secure stack's login). */
    PredictionTally(Map<String, Object> client, String topic) {
        consumer = TopicReader.fromBeginning(client, topic);
    }

    /** Reads what is there now (one short poll). */
    PredictionTally poll() {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
            try {
                JsonNode p = JSON.readTree(r.value());
                JsonNode source = p.path("source");
                byKey.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
                        .add(new Seen(source.path("partition").asInt(), source.path("offset").asLong(),
                                p.path("model").path("version").asText()));
                total++;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return this;
    }

    /** Polls until {@code keys} distinct keys have a prediction, or the timeout passes; returns how many do. */
    int awaitKeys(int keys, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (byKey.size() < keys && System.nanoTime() < deadline) {
            poll();
        }
        return byKey.size();
    }

    /** Polls for {@code quiet} more, so that late duplicates show up too. */
    PredictionTally settle(Duration quiet) {
        long deadline = System.nanoTime() + quiet.toNanos();
        while (System.nanoTime() < deadline) {
            poll();
        }
        return this;
    }

    int keys() {
        return byKey.size();
    }

    int total() {
        return total;
    }

    int duplicates() {
        return total - byKey.size();
    }

    Map<String, List<Seen>> byKey() {
        return byKey;
    }

    /** Keys among {@code prefix-0000 .. prefix-(count-1)} with no prediction. */
    List<String> gaps(String prefix, int count) {
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            if (!byKey.containsKey(ImageStream.key(prefix, i))) {
                missing.add(ImageStream.key(prefix, i));
            }
        }
        return missing;
    }

    /** Keys with more than one prediction, and those predictions. */
    Map<String, List<Seen>> duplicated() {
        return byKey.entrySet().stream().filter(e -> e.getValue().size() > 1)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, TreeMap::new));
    }

    @Override
    public void close() {
        consumer.close();
    }
}
