package dev.petal.localstack.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.records.DeadLetterReplay;
import dev.petal.common.records.Headers;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import dev.petal.localstack.Listening;
import dev.petal.localstack.LocalStack;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The secure local stack ({@code ./petal up --secure}) against real clients: each service's principal logs in with
 * SCRAM-SHA-512 and may do what docs/security.md's table grants it, and is refused outside it; the flow's first
 * hops work through the grants (ingest publishes, inference consumes petal.images in its group and answers on
 * petal.predictions).
 */
class SecureKafkaTest {
    private static Path stateDir;
    private static LocalStack stack;
    private static KafkaUsers users;

    @BeforeAll
    static void start() throws Exception {
        stateDir = Files.createTempDirectory("petal-secure-stack-");
        stack = LocalStack.start(stateDir, 0, 0, Listening.LOOPBACK, true);
        users = stack.kafkaUsers().orElseThrow();
        // A record in partition 0 of every topic, so that a permitted read ends as soon as it gets one.
        try (KafkaProducer<String, byte[]> admin = producer(KafkaUsers.ADMIN)) {
            for (String topic : List.of(Topics.TRAIN, Topics.IMAGES, Topics.PREDICTIONS, Topics.DLQ, Topics.MODELS)) {
                admin.send(new ProducerRecord<>(topic, 0, "readable", new byte[] {0})).get(20, TimeUnit.SECONDS);
            }
        }
    }

    @AfterAll
    static void stop() {
        stack.close();
        deleteRecursively(stateDir);
    }

    private static Properties as(String principal) {
        Properties props = users.clientProperties(principal, stack.bootstrapServers());
        props.put("request.timeout.ms", "10000");
        props.put("default.api.timeout.ms", "15000");
        props.put("max.block.ms", "15000");
        props.put("delivery.timeout.ms", "15000");
        return props;
    }

    private static KafkaProducer<String, byte[]> producer(String principal) {
        return new KafkaProducer<>(as(principal), new StringSerializer(), new ByteArraySerializer());
    }

    private static KafkaConsumer<String, byte[]> consumer(Properties props) {
        return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** Produces one record to {@code topic} as {@code principal}; the cause of a failure, else null. */
    private static Throwable produce(String principal, String topic, String key) {
        try (KafkaProducer<String, byte[]> producer = producer(principal)) {
            producer.send(new ProducerRecord<>(topic, key, key.getBytes(StandardCharsets.UTF_8))).get(20, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            return e;
        }
    }

    /**
     * Reads {@code topic}'s partition 0 from the start by assignment (no group) as {@code principal}: null once a record
     * came back (the admin wrote one there at the start), else the failure.
     */
    private static Throwable readByAssignment(String principal, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = consumer(as(principal))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < deadline) {
                if (!consumer.poll(Duration.ofMillis(200)).isEmpty()) {
                    return null;
                }
            }
            return new AssertionError(principal + " read no record of " + topic + " partition 0");
        } catch (RuntimeException e) {
            return e;
        }
    }

    @Test
    void theUsersFileIsTheOwnersAlone() throws Exception {
        Path file = stateDir.resolve(LocalStack.AUTH_DIR).resolve(KafkaUsers.FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        String broker = Files.readString(stateDir.resolve("kafka/broker.properties"));
        for (String user : KafkaUsers.ALL) {
            assertFalse(broker.contains(users.password(user)), "the broker's properties file holds a password");
        }
        assertFalse(stack.clientConfig().values().stream().anyMatch(v -> v.contains("password")), "stack.properties would hold a login");
    }

    @Test
    void withoutTheRightPasswordNobodyGetsIn() {
        Properties wrong = as(KafkaUsers.INGEST);
        wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + KafkaUsers.INGEST + "\" password=\"not-the-password\";");
        try (Admin admin = Admin.create(wrong)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.describeCluster().clusterId().get(20, TimeUnit.SECONDS));
            assertInstanceOf(SaslAuthenticationException.class, e.getCause());
        }
    }

    @Test
    void everyServiceCanCheckTheClusterForItsReadiness() throws Exception {
        for (String principal : List.of(KafkaUsers.INGEST, KafkaUsers.TRAINER, KafkaUsers.INFERENCE, KafkaUsers.CONSOLE)) {
            try (Admin admin = Admin.create(as(principal))) {
                assertFalse(admin.describeCluster().clusterId().get(20, TimeUnit.SECONDS).isBlank(), principal);
            }
        }
    }

    @Test
    void ingestWritesItsTopicsAndNothingElse() {
        for (String topic : List.of(Topics.TRAIN, Topics.IMAGES, Topics.DLQ)) {
            assertEquals(null, produce(KafkaUsers.INGEST, topic, "ingest-ok"), topic);
        }
        for (String topic : List.of(Topics.PREDICTIONS, Topics.MODELS)) {
            assertInstanceOf(TopicAuthorizationException.class, produce(KafkaUsers.INGEST, topic, "ingest-refused"), topic);
        }
        assertEquals(null, readByAssignment(KafkaUsers.INGEST, Topics.TRAIN), "ingest reads petal.train back to skip known images");
        assertInstanceOf(TopicAuthorizationException.class, readByAssignment(KafkaUsers.INGEST, Topics.PREDICTIONS));
        assertInstanceOf(TopicAuthorizationException.class, readByAssignment(KafkaUsers.INGEST, Topics.IMAGES));
        try (Admin admin = Admin.create(as(KafkaUsers.INGEST))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.createTopics(List.of(new NewTopic("ingest-made-this", 1, (short) 1))).all().get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof TopicAuthorizationException
                    || e.getCause() instanceof org.apache.kafka.common.errors.ClusterAuthorizationException, String.valueOf(e.getCause()));
        }
    }

    @Test
    void theTrainerReadsTheDatasetMarksItsDeadLettersAndAnnouncesModels() throws Exception {
        assertEquals(null, readByAssignment(KafkaUsers.TRAINER, Topics.TRAIN));
        assertEquals(null, produce(KafkaUsers.TRAINER, Topics.MODELS, "model-event"));
        assertEquals(null, produce(KafkaUsers.TRAINER, Topics.DLQ, "bad-dataset-record"));
        try (Admin admin = Admin.create(as(KafkaUsers.TRAINER))) {
            admin.alterConsumerGroupOffsets("petal-trainer-dead-letters",
                    Map.of(new TopicPartition(Topics.TRAIN, 0), new OffsetAndMetadata(0))).all().get(20, TimeUnit.SECONDS);
            admin.listConsumerGroupOffsets("petal-trainer-dead-letters").partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS);
        }
        for (String topic : List.of(Topics.PREDICTIONS, Topics.PREDICTIONS_SHADOW)) {
            assertInstanceOf(TopicAuthorizationException.class, produce(KafkaUsers.TRAINER, topic, "trainer-refused"), topic);
        }
        assertInstanceOf(TopicAuthorizationException.class, readByAssignment(KafkaUsers.TRAINER, Topics.IMAGES));
    }

    /**
     * Dead-letter replay ({@code POST /dlq/replay}) as the trainer's principal: an image dead-lettered by inference goes back
     * to {@code petal.images} once, in a transaction with its error class's group; a second replay publishes nothing.
     */
    @Test
    void theTrainerReplaysDeadLettersToTheirSourceTopic() throws Exception {
        String errorClass = "secure-replay-" + UUID.randomUUID();
        ProducerRecord<String, byte[]> deadLetter = new ProducerRecord<>(Topics.DLQ, "replayed-image", new byte[] {1, 2, 3});
        deadLetter.headers().add(Headers.SOURCE_TOPIC, Topics.IMAGES.getBytes(StandardCharsets.UTF_8));
        deadLetter.headers().add(Headers.ERROR_CLASS, errorClass.getBytes(StandardCharsets.UTF_8));
        try (KafkaProducer<String, byte[]> producer = producer(KafkaUsers.INFERENCE)) {
            producer.send(deadLetter).get(20, TimeUnit.SECONDS);
        }
        Map<String, Object> trainer = new java.util.HashMap<>();
        as(KafkaUsers.TRAINER).forEach((k, v) -> trainer.put((String) k, v));
        DeadLetterReplay replay = new DeadLetterReplay(KafkaClients.of(trainer), Topics.DLQ);
        DeadLetterReplay.Filter filter = new DeadLetterReplay.Filter(errorClass, null);
        assertEquals(new DeadLetterReplay.Outcome(1, 1), replay.replay(filter, false));
        assertEquals(new DeadLetterReplay.Outcome(0, 0), replay.replay(filter, false), "each dead letter is replayed once");
    }

    @Test
    void inferenceConsumesImagesInItsGroupAnswersAndIsRefusedTheRest() throws Exception {
        // The flow's first hops: ingest publishes, inference consumes in its group and answers.
        String key = "secure-" + UUID.randomUUID();
        assertEquals(null, produce(KafkaUsers.INGEST, Topics.IMAGES, key));
        Properties props = as(KafkaUsers.INFERENCE);
        props.put("group.id", KafkaAcls.INFERENCE_GROUP);
        props.put("auto.offset.reset", "earliest");
        props.put("enable.auto.commit", "false");
        List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer(props)) {
            consumer.subscribe(List.of(Topics.IMAGES));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (seen.stream().noneMatch(r -> r.key().equals(key)) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(seen::add);
            }
            consumer.commitSync();
        }
        ConsumerRecord<String, byte[]> image = seen.stream().filter(r -> r.key().equals(key)).findFirst().orElseThrow();
        assertArrayEquals(key.getBytes(StandardCharsets.UTF_8), image.value());
        assertEquals(null, produce(KafkaUsers.INFERENCE, Topics.PREDICTIONS, key));
        assertEquals(null, produce(KafkaUsers.INFERENCE, Topics.DLQ, key));
        assertEquals(null, readByAssignment(KafkaUsers.INFERENCE, Topics.MODELS));

        assertInstanceOf(TopicAuthorizationException.class, produce(KafkaUsers.INFERENCE, Topics.TRAIN, "inference-refused"));
        assertInstanceOf(TopicAuthorizationException.class, produce(KafkaUsers.INFERENCE, Topics.MODELS, "inference-refused"));
        assertInstanceOf(TopicAuthorizationException.class, readByAssignment(KafkaUsers.INFERENCE, Topics.TRAIN));
        Properties otherGroup = as(KafkaUsers.INFERENCE);
        otherGroup.put("group.id", "someone-elses-group");
        try (KafkaConsumer<String, byte[]> consumer = consumer(otherGroup)) {
            consumer.subscribe(List.of(Topics.IMAGES));
            RuntimeException e = assertThrows(RuntimeException.class, () -> consumer.poll(Duration.ofSeconds(10)));
            assertInstanceOf(org.apache.kafka.common.errors.GroupAuthorizationException.class, e);
        }
    }

    @Test
    void theConsoleReadsPredictionsDeadLettersImagesAndTheScoringGroupsOffsetsAndWritesNothing() throws Exception {
        assertEquals(null, readByAssignment(KafkaUsers.CONSOLE, Topics.PREDICTIONS));
        assertEquals(null, readByAssignment(KafkaUsers.CONSOLE, Topics.DLQ));
        assertEquals(null, readByAssignment(KafkaUsers.CONSOLE, Topics.IMAGES));
        try (Admin admin = Admin.create(as(KafkaUsers.CONSOLE))) {
            // The scoring group's committed offsets (consumer lag): Describe on the group is enough. A group that has
            // committed nothing yet may answer "not found", which is past the authorizer too.
            try {
                admin.listConsumerGroupOffsets(KafkaAcls.INFERENCE_GROUP).partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertInstanceOf(org.apache.kafka.common.errors.GroupIdNotFoundException.class, e.getCause());
            }
        }
        assertInstanceOf(TopicAuthorizationException.class, readByAssignment(KafkaUsers.CONSOLE, Topics.TRAIN));
        // A principal that may write nowhere is refused an idempotent producer's id already (a cluster authorization error).
        for (String topic : List.of(Topics.IMAGES, Topics.PREDICTIONS, Topics.DLQ, Topics.MODELS)) {
            assertInstanceOf(org.apache.kafka.common.errors.AuthorizationException.class, produce(KafkaUsers.CONSOLE, topic, "console-refused"), topic);
        }
    }

    @Test
    void inferenceWritesExactlyOnceOnlyUnderItsTransactionalIdPrefix() {
        Properties mine = as(KafkaUsers.INFERENCE);
        mine.put("transactional.id", KafkaAcls.INFERENCE_GROUP + "-" + UUID.randomUUID());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(mine, new StringSerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(Topics.PREDICTIONS, "tx", new byte[] {1}));
            producer.commitTransaction();
        }
        Properties other = as(KafkaUsers.INFERENCE);
        other.put("transactional.id", "someone-else-" + UUID.randomUUID());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(other, new StringSerializer(), new ByteArraySerializer())) {
            assertThrows(TransactionalIdAuthorizationException.class, producer::initTransactions);
        }
    }

    @Test
    void theAdminIsTheStacksSuperUser() throws Exception {
        assertEquals(null, produce(KafkaUsers.ADMIN, Topics.PREDICTIONS, "admin"));
        assertEquals(null, readByAssignment(KafkaUsers.ADMIN, Topics.PREDICTIONS), "./petal predictions runs as the admin");
    }

    private static void deleteRecursively(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException e) {
            // a temporary folder
        }
    }
}
