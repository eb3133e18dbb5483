package dev.petal.trainer.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.auth.BearerToken;
import dev.petal.common.auth.Roles;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import dev.petal.localstack.auth.JwtTestResource;
import dev.petal.localstack.auth.TestTokens;
import dev.petal.trainer.cli.RetrainCommand;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import picocli.CommandLine;

/** The trainer as a service: auto-retrain after N new labelled images (warm start, new labels), metrics, POST /train. */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@QuarkusTestResource(JwtTestResource.class)
@TestProfile(TrainerServiceTest.Profile.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrainerServiceTest {
    static final String MODEL = "auto-test";

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "petal.trainer.recipe", "{\"modelName\": \"" + MODEL + "\", \"imageSize\": 16, \"stem\": \"small\","
                            + " \"batchSize\": 8, \"lr\": 0.002, \"warmupIters\": 2}",
                    "petal.trainer.device", "cpu",
                    "petal.trainer.auto-retrain-after", "40",
                    "petal.trainer.auto-retrain-check", "1s",
                    // What RetrainCommand sends (PETAL_AUTH_TOKEN, set by the launcher for the local stack).
                    BearerToken.KEY, TestTokens.token(Roles.TRAINER),
                    "quarkus.http.test-port", "0");
        }
    }

    @Inject
    AutoRetrain autoRetrain;

    @TestHTTPResource("/")
    URL http;

    /** The management interface (health, metrics): {@code http://host:port/q/}. */
    @TestHTTPResource(value = "/", management = true)
    URL management;

    @Test
    @Order(1)
    void retrainsAfterEnoughNewImagesFromTheLatestVersionAndReportsMetrics() throws Exception {
        String metrics = RestAssured.get(management + "metrics").then().statusCode(200).extract().asString();
        for (String name : List.of("petal_trainer_step", "petal_trainer_loss", "petal_trainer_images_per_second",
                "petal_trainer_epoch", "petal_trainer_checkpoints_total")) {
            assertTrue(metrics.contains(name), name + " is on /q/metrics before the first run");
        }
        trainerCall().body("{\"epochz\": 3}").post(http + "train").then().statusCode(400);

        assertTrue(autoRetrain.start());
        LocalStack stack = LocalStack.shared();
        SyntheticShapes shapes = new SyntheticShapes(16, 11);
        publish(stack, shapes, 30, Set.of("circle", "square"));
        Thread.sleep(3000);
        assertEquals(Optional.empty(), latest(stack), "30 new images are fewer than 40: no run yet");

        publish(stack, shapes, 10, Set.of("circle", "square"));
        CheckpointManifest first = awaitVersion(stack, null);
        assertEquals(List.of("circle", "square"), first.model().labels());
        assertEquals(null, first.parentVersion());

        // A new class arrives: the next run starts from the first version, with a new head.
        publish(stack, shapes, 40, Set.of("circle", "square", "triangle"));
        CheckpointManifest second = awaitVersion(stack, first.version());
        assertEquals(first.version(), second.parentVersion());
        assertEquals(List.of("circle", "square", "triangle"), second.model().labels());

        awaitIdle();
        metrics = RestAssured.get(management + "metrics").then().statusCode(200).extract().asString();
        assertTrue(metric(metrics, "petal_trainer_checkpoints_total") >= 2, metrics);
        assertTrue(metric(metrics, "petal_trainer_step") > 0, metrics);
        assertTrue(metric(metrics, "petal_trainer_runs_total{outcome=\"succeeded\"") >= 2, metrics);
        String status = trainerCall().get(http + "train").then().statusCode(200).extract().asString();
        assertTrue(status.contains("auto-retrain") && status.contains(second.version()), status);

        // The command that asks a running service for a run.
        assertEquals(1, new CommandLine(new RetrainCommand()).execute("--url", "http://127.0.0.1:1"), "nothing listens there");
        assertEquals(2, new CommandLine(new RetrainCommand()).execute("--url", http.toString(), "{\"epochz\": 1}"));
        assertEquals(0, new CommandLine(new RetrainCommand()).execute("--url", http.toString(), "{\"seed\": 5}"));
        CheckpointManifest third = awaitVersion(stack, second.version());
        assertEquals(5L, ((Number) third.recipe().get("seed")).longValue());
        awaitIdle();
    }

    /** Auto-retrain's channels have been reading petal.train: their consumers' metrics are on the management port. */
    @Test
    @Order(2)
    void kafkaClientMetricsAreOnTheManagementPort() throws Exception {
        String metrics = "";
        long deadline = System.currentTimeMillis() + 120_000; // per-partition meters appear at the binder's next refresh
        while (System.currentTimeMillis() < deadline && !metrics.contains("kafka_consumer_fetch_manager_records_lag{")) {
            metrics = RestAssured.get(management + "metrics").then().statusCode(200).extract().asString();
            Thread.sleep(1000);
        }
        assertTrue(metrics.contains("kafka_consumer_fetch_manager_records_lag{"), "consumer lag per partition");
        assertTrue(metrics.contains("kafka_consumer_fetch_manager_records_consumed_rate"), "records consumed per second");
    }

    private static RequestSpecification trainerCall() {
        return RestAssured.given().header("Authorization", TestTokens.bearer(Roles.TRAINER));
    }

    private static void publish(LocalStack stack, SyntheticShapes shapes, int count, Set<String> labels) throws Exception {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            int sent = 0;
            while (sent < count) {
                SyntheticShapes.Sample s = shapes.next();
                if (!labels.contains(s.labelName())) {
                    continue;
                }
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(s.image(), "png", png);
                byte[] bytes = png.toByteArray();
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(Topics.TRAIN, Sha256.hex(bytes).getBytes(), bytes);
                record.headers().add(Headers.LABEL, s.labelName().getBytes(StandardCharsets.UTF_8));
                record.headers().add(Headers.SPLIT, (sent % 5 == 0 ? "valid" : "train").getBytes(StandardCharsets.UTF_8));
                producer.send(record);
                sent++;
            }
        }
    }

    private static Optional<String> latest(LocalStack stack) {
        try (ObjectStore objects = stack.objectStore()) {
            return new CheckpointStore(objects).latestVersion(MODEL);
        }
    }

    private static CheckpointManifest awaitVersion(LocalStack stack, String after) throws InterruptedException {
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (System.nanoTime() < deadline) {
            Optional<String> version = latest(stack);
            if (version.isPresent() && !version.get().equals(after)) {
                try (ObjectStore objects = stack.objectStore()) {
                    return new CheckpointStore(objects).manifest(MODEL, version.get());
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no new version of " + MODEL + " after " + after + " within 180 s");
    }

    private void awaitIdle() throws InterruptedException {
        for (int i = 0; i < 120; i++) {
            if (!trainerCall().get(http + "train").then().extract().asString().contains("\"running\"")) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the run did not finish");
    }

    private static double metric(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .max().orElse(Double.NaN);
    }
}
