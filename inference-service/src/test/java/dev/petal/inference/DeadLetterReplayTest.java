package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.records.DeadLetterReplay;
import dev.petal.common.records.Headers;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.storage.ObjectStore;
import dev.petal.inference.model.ModelHolder;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * Dead-letter replay after an object-store outage: claim-checked images sent while storage is down dead-letter as
 * {@code claim-check-unreachable}; once it is back, a replay re-publishes each to its source topic and inference scores
 * each exactly once; a second replay publishes nothing.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@TestProfile(DeadLetterReplayTest.Profile.class)
class DeadLetterReplayTest {
    static final String MODEL = "replay-test";
    static final String IN = "replay.images";
    static final String OUT = "replay.predictions";
    static final String DLQ = "replay.dlq";

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("petal.inference.model-name", MODEL, "petal.inference.group", "replay-test",
                    "petal.inference.input-topic", IN, "petal.inference.output-topic", OUT, "petal.inference.dead-letter-topic", DLQ,
                    "petal.inference.poll-interval", "2s", "petal.inference.device", "cpu", "quarkus.http.test-port", "0");
        }
    }

    @Inject
    InferenceService service;
    @Inject
    ModelHolder holder;

    @Test
    void claimChecksDeadLetteredInAnOutageAreScoredOnceAfterReplay() throws Exception {
        LocalStack stack = LocalStack.shared();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(IN, 2, (short) 1), new NewTopic(OUT, 2, (short) 1), new NewTopic(DLQ, 2, (short) 1)))
                    .all().get();
        }
        int n = 6;
        try (ObjectStore objects = stack.objectStore();
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                     new ByteArraySerializer(), new ByteArraySerializer());
             TopicReader predictions = new TopicReader(stack.bootstrapServers(), OUT);
             TopicReader deadLetters = new TopicReader(stack.bootstrapServers(), DLQ)) {
            new CheckpointStore(objects).publish(TestModels.draft(MODEL, "r1"), Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(31)));
            TestModels.promote(objects, producer, MODEL, "r1");
            for (int i = 0; i < n; i++) {
                objects.put("claims/replay-" + i + ".png", TestModels.png(40 + i));
            }
            service.start();
            long deadline = System.currentTimeMillis() + 120_000;
            while (holder.version().isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            stack.s3().stop();
            try {
                for (int i = 0; i < n; i++) {
                    ProducerRecord<byte[], byte[]> claim = new ProducerRecord<>(IN, ("replay-" + i).getBytes(StandardCharsets.UTF_8), new byte[0]);
                    claim.headers().add(Headers.IMAGE_REF, ("s3://" + objects.bucket() + "/claims/replay-" + i + ".png").getBytes(StandardCharsets.UTF_8));
                    producer.send(claim).get();
                }
                List<ConsumerRecord<byte[], byte[]>> dead = deadLetters.await(r -> true, n, Duration.ofSeconds(180));
                assertEquals(n, dead.size(), "every claim check dead-letters while storage is down");
                for (ConsumerRecord<byte[], byte[]> d : dead) {
                    assertEquals("claim-check-unreachable", new String(d.headers().lastHeader(Headers.ERROR_CLASS).value(), StandardCharsets.UTF_8));
                }
            } finally {
                stack.s3().start();
            }
            assertEquals(0, predictions.settle(r -> true, Duration.ofSeconds(1)).size());

            DeadLetterReplay replay = new DeadLetterReplay(KafkaClients.of(Map.of("bootstrap.servers", stack.bootstrapServers())), DLQ);
            DeadLetterReplay.Filter filter = new DeadLetterReplay.Filter("claim-check-unreachable", null);
            assertEquals(Map.of("claim-check-unreachable", (long) n), replay.list(filter, 10).counts());
            assertEquals(new DeadLetterReplay.Outcome(n, 0), replay.replay(filter, true), "a dry run counts, publishes nothing");
            assertEquals(new DeadLetterReplay.Outcome(n, n), replay.replay(filter, false));

            List<ConsumerRecord<byte[], byte[]>> scored = predictions.await(r -> true, n, Duration.ofSeconds(120));
            scored = predictions.settle(r -> true, Duration.ofSeconds(3));
            Map<String, Integer> perKey = new HashMap<>();
            scored.forEach(r -> perKey.merge(new String(r.key(), StandardCharsets.UTF_8), 1, Integer::sum));
            assertEquals(n, perKey.size(), "every replayed claim check is scored: " + perKey);
            perKey.forEach((k, count) -> assertEquals(1, count, k + " scored once"));

            assertEquals(new DeadLetterReplay.Outcome(0, 0), replay.replay(filter, false), "a second replay publishes nothing");
            assertEquals(new DeadLetterReplay.Outcome(0, 0), replay.replay(new DeadLetterReplay.Filter(null, null), false),
                    "nor does one without a filter");
            assertEquals(n, predictions.settle(r -> true, Duration.ofSeconds(3)).size(), "no prediction more");
            // The replayed inputs carry where they came from.
            try (TopicReader inputs = new TopicReader(stack.bootstrapServers(), IN)) {
                long replayed = inputs.await(r -> r.headers().lastHeader(Headers.REPLAYED_FROM) != null, n, Duration.ofSeconds(30)).stream()
                        .filter(r -> r.headers().lastHeader(Headers.ERROR_CLASS) == null).count();
                assertEquals(n, replayed, "replayed with replayed-from and without the error headers");
            }
        }
    }
}
