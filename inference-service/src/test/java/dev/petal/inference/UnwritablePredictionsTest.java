package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.Listening;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.auth.KafkaUsers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code petal.predictions} made unwritable under a running replica (issue #27): the secure local stack (SCRAM logins,
 * the standard authorizer, each service its ACLs, as {@code ./petal up --secure}) and the packaged service as
 * {@code petal-inference}, serving the contract's topics; then the grant to write {@code petal.predictions} is taken
 * away while images keep coming, and given back.
 *
 * <p>Asserted: readiness turns DOWN within the stall timeout (5 s here) and a second or two of checking; while
 * stalled, {@code petal_inference_stalls_total} is 1 and {@code petal_inference_stall_seconds} at least the timeout;
 * the log says "scoring stalled" once and "still stalled" at most once per timeout, not per record or retry; once the
 * grant is back, readiness is UP again, the log says "scoring recovered", the gauge is 0, every image has a
 * prediction, and none has two (the outputs the broker refused were sent again; none it took was).
 */
class UnwritablePredictionsTest {
    static final int STALL_SECONDS = 5;
    static final int BEFORE = 200;
    static final int DURING = 200;

    static Path stateDir;
    static LocalStack stack;
    static KafkaUsers users;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Boolean.getBoolean("petal.packaged"),
                "UnwritablePredictionsTest runs the packaged service: mvn verify runs it under failsafe, after package");
        stateDir = Files.createTempDirectory("petal-unwritable-");
        stack = LocalStack.start(stateDir, 0, 0, Listening.LOOPBACK, true);
        users = stack.kafkaUsers().orElseThrow();
        admin = stack.kafka().admin();
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack == null) {
            return;
        }
        admin.close();
        stack.close();
        try (var paths = Files.walk(stateDir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static final AclBinding WRITE_PREDICTIONS = new AclBinding(
            new ResourcePattern(ResourceType.TOPIC, Topics.PREDICTIONS, PatternType.LITERAL),
            new AccessControlEntry("User:" + KafkaUsers.INFERENCE, "*", AclOperation.WRITE, AclPermissionType.ALLOW));

    @Test
    void readinessGoesDownWithinTheStallTimeoutAndNothingIsPublishedTwice() throws Exception {
        String model = "petal";
        try (ObjectStore objects = stack.objectStore()) {
            new CheckpointStore(objects).publish(TestModels.draft(model, "v1"),
                    Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(1)));
            TestModels.promote(objects, null, model, "v1"); // inference serves the champion
        }
        Map<String, String> more = new HashMap<>(users.clientConfig(KafkaUsers.INFERENCE));
        more.put("petal.inference.stall-timeout", STALL_SECONDS + "s");
        more.put("petal.inference.max-batch", "8");
        Map<String, String> config = Replica.config(stack.clientConfig(), model, "petal-inference", Topics.IMAGES,
                Topics.PREDICTIONS, Topics.DLQ, more);
        Map<String, Object> ingest = login(KafkaUsers.INGEST);
        Map<String, Object> reader = new HashMap<>(login(KafkaUsers.ADMIN));
        reader.put("bootstrap.servers", stack.bootstrapServers());
        String prefix = "unwritable";
        try (Replica replica = new Replica(config).start();
             PredictionTally tally = new PredictionTally(reader, Topics.PREDICTIONS)) {
            replica.awaitConsuming(Duration.ofSeconds(120));
            try (ImageStream first = new ImageStream(stack.bootstrapServers(), ingest, Topics.IMAGES, prefix, BEFORE, 200)) {
                first.finish(Duration.ofSeconds(60));
            }
            assertEquals(BEFORE, tally.awaitKeys(BEFORE, Duration.ofSeconds(60)), "scored while writable");
            assertEquals(0.0, replica.metric("petal_inference_stalls_total"));

            admin.deleteAcls(List.of(WRITE_PREDICTIONS.toFilter())).all().get(30, TimeUnit.SECONDS);
            long revoked = System.nanoTime();
            double downAfter;
            try (ImageStream during = new ImageStream(stack.bootstrapServers(), ingest, Topics.IMAGES, prefix + "-during", DURING, 200)) {
                during.finish(Duration.ofSeconds(60));
                downAfter = awaitReady(replica, false, Duration.ofSeconds(STALL_SECONDS + 30), revoked);
                assertTrue(downAfter >= STALL_SECONDS - 0.5, "not DOWN before the timeout: " + downAfter + " s");
                assertTrue(downAfter <= STALL_SECONDS + 5, "DOWN within the stall timeout and a check: " + downAfter + " s");
                assertTrue(replica.live(), "a stall is not a reason to restart: live");
                Thread.sleep(2L * STALL_SECONDS * 1000); // stalled for about three timeouts in all
                assertEquals(1.0, replica.metric("petal_inference_stalls_total"), "one stall, counted once");
                double age = replica.metric("petal_inference_stall_seconds");
                assertTrue(age >= 2 * STALL_SECONDS, "the gauge gives the stall's age: " + age);
                assertFalse(replica.ready(), "still DOWN while the topic is unwritable");
            }
            int keysWhileStalled = tally.poll().keys();
            double stalledFor = (System.nanoTime() - revoked) / 1e9;

            admin.createAcls(List.of(WRITE_PREDICTIONS)).all().get(30, TimeUnit.SECONDS);
            long granted = System.nanoTime();
            double upAfter = awaitReady(replica, true, Duration.ofSeconds(90), granted);
            int keys = tally.awaitKeys(BEFORE + DURING, Duration.ofSeconds(90));
            tally.settle(Duration.ofSeconds(3));
            String log = replica.log();
            int stalledLines = count(log, "scoring stalled:");
            int stillLines = count(log, "scoring still stalled");
            System.out.printf("unwritable petal.predictions: readiness DOWN %.1f s after the grant was taken (stall timeout %d s),"
                            + " %d keys while stalled for %.1f s; UP %.1f s after it was given back; %d/%d keys, %d predictions,"
                            + " %d duplicates; log: %d 'stalled', %d 'still stalled', %d 'recovered'%n", downAfter, STALL_SECONDS,
                    keysWhileStalled, stalledFor, upAfter, keys, BEFORE + DURING, tally.total(), tally.duplicates(),
                    stalledLines, stillLines, count(log, "scoring recovered"));
            assertEquals(List.of(), tally.gaps(prefix + "-during", DURING), "every image sent while unwritable is scored after");
            assertEquals(List.of(), tally.gaps(prefix, BEFORE));
            assertEquals(Map.of(), tally.duplicated(), "no output the broker took was sent again");
            assertEquals(BEFORE + DURING, tally.total());
            assertEquals(1, stalledLines, "the stall is logged once when it begins:\n" + log);
            double stall = stalledFor + upAfter;
            assertTrue(stillLines <= (int) (stall / STALL_SECONDS) + 1, "then once per timeout, not per record: " + stillLines
                    + " in a stall of " + stall + " s");
            assertEquals(0, count(log, "SRMSG18206"), "no line per failed send");
            assertEquals(1, count(log, "scoring recovered"), "and once when it ends");
            assertEquals(0.0, replica.metric("petal_inference_stall_seconds"));
            assertEquals(1.0, replica.metric("petal_inference_stalls_total"));
        }
    }

    private Map<String, Object> login(String principal) {
        Map<String, Object> config = new HashMap<>();
        users.clientConfig(principal).forEach((k, v) -> config.put(k.substring("kafka.".length()), v));
        return config;
    }

    /** Polls readiness every 200 ms until it is {@code up}; seconds from {@code since}. */
    private static double awaitReady(Replica replica, boolean up, Duration timeout, long since) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (replica.ready() != up) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("readiness not " + (up ? "UP" : "DOWN") + " within " + timeout);
            }
            Thread.sleep(200);
        }
        return (System.nanoTime() - since) / 1e9;
    }

    private static int count(String text, String phrase) {
        Matcher m = Pattern.compile(Pattern.quote(phrase)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
