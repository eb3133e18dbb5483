package dev.petal.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.image.ImageDecoder;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.records.Headers;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import dev.petal.localstack.LocalStack;
import dev.petal.trainer.job.TrainingJob;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The trainer's dead-letter mark (issue #27): the committed offset of {@value DeadLetters#GROUP} on {@code petal.train},
 * which says how far bad dataset records were already sent to {@code petal.dlq}, moves only after the broker has
 * acknowledged those dead letters. On a stack of its own (its {@code petal.dlq} is made to refuse records), with the
 * scan and dead-lettering step of a training run ({@link DatasetIndex#scan} and {@link DeadLetters}, as
 * {@code TrainingJob} calls them).
 *
 * <p>Asserted: with {@code petal.dlq} refusing every record ({@code max.message.bytes} 64), the step fails and the mark
 * does not move; once it accepts them, the next run sends all three dead letters and the mark moves to the end of
 * every partition; a third run sends none. {@code petal.dlq} then holds each bad record once.
 */
class DeadLetterMarkTest {
    static Path stateDir;
    static LocalStack stack;

    @BeforeAll
    static void start() throws Exception {
        stateDir = Files.createTempDirectory("petal-dead-letter-mark-");
        stack = LocalStack.start(stateDir);
        try (KafkaProducer<byte[], byte[]> producer = clients().producer()) {
            producer.send(new ProducerRecord<>(Topics.TRAIN, bytes("no-label"), bytes("x"))).get();
            ProducerRecord<byte[], byte[]> badSplit = new ProducerRecord<>(Topics.TRAIN, bytes("bad-split"), bytes("y"));
            badSplit.headers().add(Headers.LABEL, bytes("circle"));
            badSplit.headers().add(Headers.SPLIT, bytes("test"));
            producer.send(badSplit).get();
            ProducerRecord<byte[], byte[]> page = new ProducerRecord<>(Topics.TRAIN, bytes("not-an-image"), bytes("<html>a page</html>"));
            page.headers().add(Headers.LABEL, bytes("circle"));
            page.headers().add(Headers.SPLIT, bytes("train"));
            producer.send(page).get();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        stack.close();
        try (var paths = Files.walk(stateDir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void theMarkMovesOnlyPastDeadLettersTheBrokerTook() throws Exception {
        ConfigResource dlq = new ConfigResource(ConfigResource.Type.TOPIC, Topics.DLQ);
        try (Admin admin = stack.kafka().admin()) {
            admin.incrementalAlterConfigs(Map.of(dlq, List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", "64"),
                    AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            Thread.sleep(1000); // the broker applies a topic's new limit within moments
            IllegalStateException refused = assertThrows(IllegalStateException.class, DeadLetterMarkTest::scanAndDeadLetter);
            assertTrue(refused.getMessage().contains("could not dead-letter"), refused.getMessage());
            assertEquals(Map.of(), mark(admin), "no mark past dead letters the broker refused");

            admin.incrementalAlterConfigs(Map.of(dlq, List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", ""),
                    AlterConfigOp.OpType.DELETE)))).all().get(30, TimeUnit.SECONDS);
            Thread.sleep(1000);
            assertEquals(3, scanAndDeadLetter(), "the next run sends them all");
            Map<Integer, Long> ends = endOffsets();
            assertEquals(ends, mark(admin), "the mark is at the end of each partition, past what the broker took");
            assertEquals(0, scanAndDeadLetter(), "and a later run none");
        }
        List<String> keys = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(Topics.DLQ)) {
            keys.add(new String(r.key(), StandardCharsets.UTF_8));
        }
        keys.sort(null);
        assertEquals(List.of("bad-split", "no-label", "not-an-image"), keys, "each bad record on petal.dlq once");
    }

    /** A training run's scan and dead-lettering step; the dead letters it sent. */
    private static int scanAndDeadLetter() {
        try (KafkaConsumer<byte[], byte[]> reader = clients().consumer(Map.of(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
             KafkaProducer<byte[], byte[]> producer = clients().producer(Map.of("delivery.timeout.ms", 10_000, "request.timeout.ms", 5_000),
                     new ByteArraySerializer(), new ByteArraySerializer());
             DeadLetters deadLetters = DeadLetters.open(clients(), producer, Topics.TRAIN)) {
            DatasetIndex index = DatasetIndex.scan(reader, Topics.TRAIN, null, null, null, new ImageDecoder(ImageLimits.defaults()), 0,
                    TrainingJob.DEFAULT_MAX_LABELS, deadLetters::offer);
            assertEquals(3, index.badTotal());
            return deadLetters.finish(index.offsets(), index.badCounts());
        }
    }

    private static Map<Integer, Long> mark(Admin admin) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(DeadLetters.GROUP)
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        Map<Integer, Long> marks = new java.util.TreeMap<>();
        offsets.forEach((tp, o) -> {
            if (tp.topic().equals(Topics.TRAIN) && o != null && o.offset() > 0) { // an empty partition's mark is 0
                marks.put(tp.partition(), o.offset());
            }
        });
        return marks;
    }

    private static Map<Integer, Long> endOffsets() {
        try (KafkaConsumer<byte[], byte[]> c = clients().consumer(Map.of(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = c.partitionsFor(Topics.TRAIN).stream()
                    .map(p -> new TopicPartition(Topics.TRAIN, p.partition())).toList();
            Map<Integer, Long> ends = new java.util.TreeMap<>();
            c.endOffsets(partitions).forEach((tp, end) -> {
                if (end > 0) {
                    ends.put(tp.partition(), end);
                }
            });
            return ends;
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = clients().consumer(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = c.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                c.poll(Duration.ofMillis(500)).forEach(all::add);
            }
        }
        return all;
    }

    private static KafkaClients clients() {
        return KafkaClients.of(Map.of("bootstrap.servers", stack.bootstrapServers()));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
