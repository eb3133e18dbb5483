package dev.petal.common.records;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code ./petal dlq list} and {@code ./petal dlq replay}: dead letters counted and sampled, and re-published to the
 * topic they came from ({@code source-topic}) with their original key, value and headers, the five error headers
 * removed and {@code replayed-from: <dlq topic>:<partition>:<offset>} added.
 *
 * <p>Each dead letter is replayed at most once. What was replayed is remembered in consumer groups, one per error class
 * ({@code petal-dlq-replay.<error-class>}): the group's committed offset per partition marks how far that class's dead
 * letters have been replayed. A replay reads the topic up to its end as it was when the replay began, re-publishes the
 * matching dead letters past their class's mark, and moves the marks, all in one Kafka transaction: a replay that fails
 * half way publishes nothing and moves no mark, and a second replay publishes nothing new. {@code --since T} leaves out
 * the dead letters before T, and the mark passes over them: they are not replayed later either.
 */
public final class DeadLetterReplay {
    public static final String GROUP_PREFIX = "petal-dlq-replay.";
    private static final Set<String> ERROR_HEADERS = DeadLetter.HEADERS;

    /** Which dead letters: of one error class (null: all) written at or after {@code since} (null: any time). */
    public record Filter(String errorClass, Instant since) {
        boolean matches(ConsumerRecord<byte[], byte[]> r) {
            return (errorClass == null || errorClass.equals(header(r, Headers.ERROR_CLASS)))
                    && (since == null || r.timestamp() >= since.toEpochMilli());
        }
    }

    /** One dead letter as listed: where it came from, its key (text, or its length when not text) and why. */
    public record Sample(String sourceTopic, Integer partition, Long offset, String key, String errorClass, String reason, String at) {}

    /** Counts per error class of the matching dead letters, and up to {@code limit} samples, newest last. */
    public record Listing(Map<String, Long> counts, List<Sample> samples) {}

    /** Dead letters that matched the filter and had not been replayed before, and how many were re-published. */
    public record Outcome(long matched, long replayed) {}

    private final KafkaClients kafka;
    private final String topic;

    public DeadLetterReplay(KafkaClients kafka, String deadLetterTopic) {
        this.kafka = kafka;
        this.topic = deadLetterTopic;
    }

    public Listing list(Filter filter, int limit) {
        Map<String, Long> counts = new TreeMap<>();
        // The newest `limit` by the dead letter's timestamp, whatever partition they sit in.
        record Timed(long timestamp, int partition, long offset, Sample sample) {}
        java.util.Comparator<Timed> order = java.util.Comparator.comparingLong(Timed::timestamp).thenComparingInt(Timed::partition)
                .thenComparingLong(Timed::offset);
        java.util.PriorityQueue<Timed> newest = new java.util.PriorityQueue<>(order);
        try (KafkaConsumer<byte[], byte[]> consumer = kafka.reader()) {
            read(consumer, r -> {
                if (filter.matches(r)) {
                    counts.merge(classOf(r), 1L, Long::sum);
                    newest.add(new Timed(r.timestamp(), r.partition(), r.offset(), sample(r)));
                    if (newest.size() > limit) {
                        newest.poll();
                    }
                }
            });
        }
        List<Timed> sorted = new ArrayList<>(newest);
        sorted.sort(order);
        return new Listing(counts, sorted.stream().map(Timed::sample).toList());
    }

    /** Re-publishes the matching dead letters not replayed yet (none with {@code dryRun}: only counts them). */
    public Outcome replay(Filter filter, boolean dryRun) {
        List<ConsumerRecord<byte[], byte[]>> toReplay = new ArrayList<>();
        Map<String, Map<TopicPartition, Long>> marks = new HashMap<>();
        Map<String, Map<TopicPartition, OffsetAndMetadata>> committed = new HashMap<>();
        Map<TopicPartition, Long> ends;
        try (KafkaConsumer<byte[], byte[]> consumer = kafka.reader()) {
            ends = read(consumer, r -> {
                String errorClass = classOf(r);
                if (filter.errorClass() != null && !filter.errorClass().equals(errorClass)) {
                    return;
                }
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                Map<TopicPartition, OffsetAndMetadata> done = committed.computeIfAbsent(errorClass, this::committedOffsets);
                OffsetAndMetadata mark = done.get(tp);
                if (mark != null && r.offset() < mark.offset()) {
                    return; // replayed (or passed over) before
                }
                marks.computeIfAbsent(errorClass, c -> new HashMap<>()).put(tp, r.offset() + 1);
                if (filter.matches(r) && header(r, Headers.SOURCE_TOPIC) != null && !header(r, Headers.SOURCE_TOPIC).isEmpty()) {
                    toReplay.add(r);
                }
            });
        }
        if (dryRun || marks.isEmpty()) {
            return new Outcome(toReplay.size(), 0);
        }
        Map<String, Object> transactional = new HashMap<>();
        transactional.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "petal-dlq-replay-" + topic);
        transactional.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 33554432);
        try (KafkaProducer<byte[], byte[]> producer = kafka.producer(transactional, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            try {
                for (ConsumerRecord<byte[], byte[]> r : toReplay) {
                    producer.send(replayOf(r));
                }
                for (Map.Entry<String, Map<TopicPartition, Long>> entry : marks.entrySet()) {
                    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                    entry.getValue().forEach((tp, next) -> offsets.put(tp, new OffsetAndMetadata(next)));
                    producer.sendOffsetsToTransaction(offsets, new ConsumerGroupMetadata(GROUP_PREFIX + entry.getKey()));
                }
                producer.commitTransaction();
            } catch (RuntimeException e) {
                try {
                    producer.abortTransaction();
                } catch (RuntimeException ignored) {
                    // the transaction times out on the broker
                }
                throw e;
            }
        }
        return new Outcome(toReplay.size(), toReplay.size());
    }

    /** The dead letter as it first was: to its source topic, its key, value and headers, without the error headers. */
    ProducerRecord<byte[], byte[]> replayOf(ConsumerRecord<byte[], byte[]> r) {
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(header(r, Headers.SOURCE_TOPIC), null, r.key(), r.value());
        for (Header h : r.headers()) {
            if (!ERROR_HEADERS.contains(h.key()) && !Headers.REPLAYED_FROM.equals(h.key())) {
                out.headers().add(h.key(), h.value());
            }
        }
        out.headers().add(Headers.REPLAYED_FROM, (r.topic() + ":" + r.partition() + ":" + r.offset()).getBytes(StandardCharsets.UTF_8));
        return out;
    }

    private Map<TopicPartition, OffsetAndMetadata> committedOffsets(String errorClass) {
        Map<String, Object> group = new HashMap<>();
        group.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP_PREFIX + errorClass);
        group.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<byte[], byte[]> consumer = kafka.reader(group)) {
            Set<TopicPartition> partitions = new java.util.HashSet<>();
            consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            consumer.committed(partitions, Duration.ofSeconds(30)).forEach((tp, o) -> {
                if (o != null) {
                    offsets.put(tp, o);
                }
            });
            return offsets;
        }
    }

    /** Reads the topic from its start to its end as it is now; returns those end offsets. */
    private Map<TopicPartition, Long> read(KafkaConsumer<byte[], byte[]> consumer, java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> each) {
        List<TopicPartition> partitions = new ArrayList<>();
        consumer.partitionsFor(topic, Duration.ofSeconds(30)).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
        long deadline = System.currentTimeMillis() + 300_000;
        while (!reached(consumer, ends)) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("could not read " + topic + " to its end in 5 minutes");
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                if (r.offset() < ends.get(new TopicPartition(r.topic(), r.partition()))) {
                    each.accept(r);
                }
            }
        }
        return ends;
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> ends) {
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            if (consumer.position(end.getKey()) < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static Sample sample(ConsumerRecord<byte[], byte[]> r) {
        String key = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
        if (key != null && !UntrustedText.isClean(key, 200)) {
            key = "(" + r.key().length + " bytes)";
        }
        return new Sample(header(r, Headers.SOURCE_TOPIC), integer(header(r, Headers.SOURCE_PARTITION)),
                longOrNull(header(r, Headers.SOURCE_OFFSET)), key == null ? null : UntrustedText.oneLine(key, 200), classOf(r),
                UntrustedText.oneLine(String.valueOf(header(r, Headers.ERROR_REASON)), 300), Instant.ofEpochMilli(r.timestamp()).toString());
    }

    private static String classOf(ConsumerRecord<byte[], byte[]> r) {
        String c = header(r, Headers.ERROR_CLASS);
        return c == null || c.isEmpty() || !c.matches("[a-z0-9][a-z0-9-]{0,63}") ? "unknown" : c;
    }

    static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static Integer integer(String s) {
        try {
            return s == null ? null : Integer.valueOf(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Long longOrNull(String s) {
        try {
            return s == null ? null : Long.valueOf(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
