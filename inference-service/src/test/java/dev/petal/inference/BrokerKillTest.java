package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.cluster.KafkaCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One broker of three killed (SIGKILL) under load (issue #27): a KRaft cluster of three nodes in processes of their
 * own ({@link KafkaCluster}), every topic replicated three times with {@code min.insync.replicas=2}, as production
 * runs it; the packaged inference service scoring at least once; images sent by a producer configured as ingest's
 * {@code published-images} channel.
 *
 * <p>Two faults: node 2 killed while images are still being ingested and scored (then started again), and node 3
 * killed while a backlog of images, all ingested, is being scored. Asserted: every send is acknowledged and the input
 * topic holds each image exactly once (ingest: nothing lost, nothing duplicated, the idempotent producer's retries
 * included); every image has a prediction; a key predicted twice is one input scored twice (the batch in flight when
 * a fault moved the group's coordinator or a partition leader), at most one batch per fault.
 */
class BrokerKillTest {
    // Enough that each kill lands with a batch in flight and dozens of batches before and after it.
    static final int IMAGES = 600;
    static final int MAX_BATCH = 8;

    static Path stateDir;
    static LocalStack stack;
    static KafkaCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Boolean.getBoolean("petal.packaged"),
                "BrokerKillTest runs the packaged service: mvn verify runs it under failsafe, after package");
        stateDir = Files.createTempDirectory("petal-broker-kill-");
        stack = LocalStack.start(stateDir.resolve("stack")); // object storage (its broker stays idle)
        cluster = KafkaCluster.start(stateDir.resolve("cluster"), 3);
        cluster.createTopic("bk.images", 6);
        cluster.createTopic("bk.predictions", 6);
        cluster.createTopic("bk.dlq", 1);
        cluster.createTopic(Topics.MODELS, 1);
        try (ObjectStore objects = stack.objectStore()) {
            new CheckpointStore(objects).publish(TestModels.draft("bk", "v1"), Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(1)));
            TestModels.promote(objects, null, "bk", "v1"); // inference serves the champion
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack == null) {
            return;
        }
        cluster.close();
        stack.close();
        try (var paths = Files.walk(stateDir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void aKilledBrokerLosesAndDuplicatesNothingBeyondTheBatchInFlight() throws Exception {
        long start = System.nanoTime();
        Map<String, String> stackConfig = new HashMap<>(stack.clientConfig());
        stackConfig.put(LocalStack.KAFKA_BOOTSTRAP_SERVERS, cluster.bootstrapServers());
        Map<String, String> config = Replica.config(stackConfig, "bk", "bk", "bk.images", "bk.predictions", "bk.dlq",
                Map.of("petal.inference.max-batch", Integer.toString(MAX_BATCH)));
        String bootstrap = cluster.bootstrapServers();
        try (Replica replica = new Replica(config).start();
             PredictionTally tally = new PredictionTally(bootstrap, "bk.predictions")) {
            replica.awaitConsuming(Duration.ofSeconds(120));

            // 1. During ingest: node 2 dies while images are sent (100 a second, 6 s in all) and scored.
            int atFirstKill;
            double firstRecovered;
            try (ImageStream stream = new ImageStream(bootstrap, "bk.images", "ingest", IMAGES, 100)) {
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (stream.acknowledged() < IMAGES / 4 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                atFirstKill = stream.acknowledged();
                assertTrue(atFirstKill < IMAGES / 2, "killed while ingesting: " + atFirstKill);
                long killed = System.nanoTime();
                cluster.kill(2);
                stream.finish(Duration.ofSeconds(120));
                assertEquals(IMAGES, tally.awaitKeys(IMAGES, Duration.ofSeconds(180)), "scored with a node down");
                firstRecovered = (System.nanoTime() - killed) / 1e9;
            }
            int duplicatesAfterFirst = tally.settle(Duration.ofSeconds(2)).duplicates();
            cluster.start(2);

            // 2. During scoring: everything ingested first, node 3 dies while the backlog is scored.
            try (ImageStream backlog = new ImageStream(bootstrap, "bk.images", "backlog", IMAGES, 5000)) {
                backlog.finish(Duration.ofSeconds(120));
            }
            tally.awaitKeys(IMAGES + IMAGES / 4, Duration.ofSeconds(90));
            int atSecondKill = tally.keys() - IMAGES;
            long killed = System.nanoTime();
            cluster.kill(3);
            assertEquals(2 * IMAGES, tally.awaitKeys(2 * IMAGES, Duration.ofSeconds(180)), "the backlog scored with a node down");
            double secondRecovered = (System.nanoTime() - killed) / 1e9;
            tally.settle(Duration.ofSeconds(3));

            Map<String, Integer> inputs = countByKey(bootstrap, "bk.images");
            System.out.printf("3 brokers, RF 3, min ISR 2: node 2 killed at %d of %d ingested, all scored %.1f s after (%d duplicates);"
                            + " node 3 killed at %d of %d backlog scored, all scored %.1f s after; inputs on the topic %d (%d keys);"
                            + " %d predictions, %d duplicates; %.1f s in all%n", atFirstKill, IMAGES, firstRecovered, duplicatesAfterFirst,
                    atSecondKill, IMAGES, secondRecovered, inputs.values().stream().mapToInt(Integer::intValue).sum(), inputs.size(),
                    tally.total(), tally.duplicates(), (System.nanoTime() - start) / 1e9);
            assertEquals(2 * IMAGES, inputs.size(), "every image acknowledged to ingest is on the topic");
            assertEquals(Map.of(), inputs.entrySet().stream().filter(e -> e.getValue() > 1)
                    .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)), "and none twice");
            assertEquals(List.of(), tally.gaps("ingest", IMAGES), "every image has a prediction");
            assertEquals(List.of(), tally.gaps("backlog", IMAGES));
            for (List<PredictionTally.Seen> seen : tally.duplicated().values()) {
                assertEquals(1, seen.stream().map(s -> s.partition() + ":" + s.offset()).distinct().count(),
                        "a duplicate is one input scored twice: " + seen);
            }
            assertTrue(tally.duplicates() <= 2 * MAX_BATCH, "at most the batch in flight per fault: " + tally.duplicated());
            assertTrue(replica.live(), "live");
            replica.awaitReady(Duration.ofSeconds(30)); // ready with two of three nodes
            try (Admin admin = cluster.admin()) {
                TopicDescription images = admin.describeTopics(List.of("bk.images")).allTopicNames().get().get("bk.images");
                assertEquals(3, images.partitions().get(0).replicas().size(), "replicated three times");
            }
        }
    }

    private static Map<String, Integer> countByKey(String bootstrap, String topic) {
        Map<String, Integer> counts = new TreeMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = TopicReader.fromBeginning(bootstrap, topic)) {
            var partitions = consumer.assignment();
            Map<org.apache.kafka.common.TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    counts.merge(new String(r.key(), StandardCharsets.UTF_8), 1, Integer::sum);
                }
            }
        }
        return counts;
    }
}
