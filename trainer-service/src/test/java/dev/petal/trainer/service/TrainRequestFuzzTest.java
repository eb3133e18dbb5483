package dev.petal.trainer.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.auth.Roles;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import dev.petal.localstack.auth.ApiAuthAssertions.Call;
import dev.petal.localstack.auth.JwtTestResource;
import dev.petal.localstack.auth.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.ByteArrayOutputStream;
import jakarta.inject.Inject;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * POST /train is data, not configuration. Unknown fields, values out of bounds, wrong types, bodies that are not
 * a JSON object, paths on the trainer, references outside the bucket and other model names: each is a 400 with a
 * one-line JSON error, no run starts, the served model's latest version stays, and nothing is read from disk:
 * the files named hold a marker that would show in an error, and one of them is a FIFO, whose opening would
 * hang the request. GET /train never quotes a file either, even for weights that were read and refused.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@QuarkusTestResource(JwtTestResource.class)
@TestProfile(TrainRequestFuzzTest.Profile.class)
class TrainRequestFuzzTest {
    static final String MODEL = "fuzz-model";
    static final String MARKER = "MARKER-" + UUID.randomUUID();
    static final ObjectMapper JSON = new ObjectMapper();

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "petal.trainer.recipe", "{\"modelName\": \"" + MODEL + "\", \"imageSize\": 32, \"stem\": \"small\", \"batchSize\": 4}",
                    "petal.trainer.device", "cpu",
                    "quarkus.http.test-port", "0");
        }
    }

    @TestHTTPResource("/train")
    URL train;

    @Inject
    TrainerConfig config;

    static Path dir;
    static Path markerFile;
    static Path fifo;

    @BeforeAll
    static void files() throws Exception {
        dir = Files.createTempDirectory("petal-fuzz-");
        markerFile = dir.resolve("weights.safetensors");
        Files.write(markerFile, safetensorsNaming(MARKER));
        fifo = dir.resolve("fifo.pth");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        if (mkfifo.waitFor() != 0) {
            fifo = null; // no mkfifo here: the marker files still show a read
        }
        try (ObjectStore objects = LocalStack.shared().objectStore()) {
            objects.put(CheckpointStore.latestKey(MODEL), "v0-served".getBytes(StandardCharsets.UTF_8));
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        try (var paths = Files.list(dir)) {
            for (Path p : paths.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    /** A safetensors file whose one tensor is named {@code name} and has a dtype no reader knows: its error names the tensor. */
    static byte[] safetensorsNaming(String name) {
        byte[] header = ("{\"" + name + "\":{\"dtype\":\"" + name + "\",\"shape\":[1],\"data_offsets\":[0,4]}}")
                .getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + header.length + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).put(header).array();
    }

    @Test
    void everyRefusalIsA400ThatStartsNothingAndReadsNothing() throws Exception {
        List<String> bodies = new ArrayList<>(List.of(
                // unknown fields, and fields a request may not set
                "{\"epochz\": 3}", "{\"device\": \"gpu\"}", "{\"resume\": true}", "{\"decodeThreads\": 64}",
                "{\"prefetchBatches\": 2}", "{\"checkpointIntervalSeconds\": 1}", "{\"stopAfterEpochs\": 1}",
                "{\"__proto__\": {\"epochs\": 1}}", "{\"epochs\": 1, \"" + "x".repeat(5000) + "\": 1}",
                // out of bounds
                "{\"epochs\": 0}", "{\"epochs\": 1001}", "{\"epochs\": 1e12}", "{\"batchSize\": 0}", "{\"batchSize\": 5000}",
                "{\"lr\": 0}", "{\"lr\": 11}", "{\"imageSize\": 1}", "{\"imageSize\": 100000}", "{\"weightDecay\": -1}",
                "{\"labelSmoothing\": 0.9}", "{\"warmupFraction\": 1}", "{\"cacheMegabytes\": 1000000000}",
                "{\"cacheMegabytes\": -1}", "{\"seed\": 1e400}",
                // wrong types
                "{\"epochs\": \"3\"}", "{\"epochs\": 3.5}", "{\"epochs\": true}", "{\"augment\": \"yes\"}", "{\"arch\": 18}",
                "{\"lr\": \"NaN\"}", "{\"seed\": {\"a\": 1}}", "{\"dataset\": [\"a\"]}", "{\"modelName\": 7}",
                "{\"initWeights\": 7}", "{\"arch\": \"resnet9999\"}", "{\"precision\": \"fp8\"}",
                // not a JSON object
                "[1, 2]", "\"epochs\"", "{", "null", "42", "{\"epochs\": 1, \"epochs\": 2}", "epochs=3",
                // paths on the trainer, and references that leave the bucket
                "{\"initWeights\": \"" + markerFile + "\"}", "{\"initWeights\": \"file://" + markerFile + "\"}",
                "{\"initWeights\": \"../../../../" + markerFile + "\"}", "{\"initWeights\": \"torchvision:" + markerFile + "\"}",
                "{\"initWeights\": \"s3://another-bucket/weights.pth\"}", "{\"initWeights\": \"s3://petal/../another/w.pth\"}",
                "{\"initWeights\": \"s3://petal/\"}", "{\"initWeights\": \"https://example.com/w.pth\"}",
                "{\"initWeights\": \"torchvision:resnet18\"}", // a name, but not in this trainer's cache
                "{\"dataset\": \"../../etc\"}",
                // other model names
                "{\"modelName\": \"petal\"}", "{\"modelName\": \"../" + MODEL + "\"}", "{\"modelName\": \"" + MODEL + "-2\"}",
                "{\"modelName\": \"\"}"));
        if (fifo != null) {
            bodies.add("{\"initWeights\": \"" + fifo + "\"}");
        }
        for (String body : bodies) {
            HttpResponse<String> refused = Call.post(train.toURI(), "application/json", body.getBytes(StandardCharsets.UTF_8))
                    .send(TestTokens.bearer(Roles.TRAINER));
            String what = body.length() > 80 ? body.substring(0, 80) + "..." : body;
            assertEquals(400, refused.statusCode(), what + ": " + refused.body());
            JsonNode json = JSON.readTree(refused.body());
            assertEquals(400, json.path("status").asInt(), what + ": " + refused.body());
            String error = json.path("error").asText();
            assertFalse(error.isBlank() || error.contains("\n"), what + ": one line: " + refused.body());
            assertTrue(error.length() <= 600, what + ": short: " + error.length() + " characters");
            assertFalse(refused.body().contains(MARKER), what + ": quotes a file: " + refused.body());
            assertFalse(refused.body().contains(System.getProperty("user.home") + "/.cache"), what + ": names the cache's path");
            assertIdle();
        }
        try (ObjectStore objects = LocalStack.shared().objectStore()) {
            assertEquals("v0-served", new CheckpointStore(objects).latestVersion(MODEL).orElseThrow(), "the served model is unchanged");
        }
    }

    @Test
    void aCacheOverTheHeapShareIsRefusedThoughWithinTheRecipesBound() throws Exception {
        long over = config.cacheBudget().maxMegabytes() + 1; // far below Recipe's own bound of 16777216
        HttpResponse<String> refused = Call.post(train.toURI(), "application/json",
                ("{\"cacheMegabytes\": " + over + "}").getBytes(StandardCharsets.UTF_8)).send(TestTokens.bearer(Roles.ADMIN));
        assertEquals(400, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains(CacheBudget.SHARE), refused.body());
        assertIdle();
    }

    @Test
    void aRunWhoseBucketWeightsFailReportsWhichWithoutQuotingThem() throws Exception {
        publishDataset("fuzz-data", 12);
        try (ObjectStore objects = LocalStack.shared().objectStore()) {
            objects.put("weights/marker.safetensors", safetensorsNaming(MARKER));
        }
        String body = "{\"dataset\": \"fuzz-data\", \"initWeights\": \"s3://petal/weights/marker.safetensors\"}";
        HttpResponse<String> started = Call.post(train.toURI(), "application/json", body.getBytes(StandardCharsets.UTF_8))
                .send(TestTokens.bearer(Roles.TRAINER));
        assertEquals(202, started.statusCode(), started.body());
        String state = awaitEnd();
        assertTrue(state.contains("\"failed\"") && state.contains("s3://petal/weights/marker.safetensors"), state);
        assertFalse(state.contains(MARKER), "GET /train quotes the weights file: " + state);
        try (ObjectStore objects = LocalStack.shared().objectStore()) {
            assertEquals("v0-served", new CheckpointStore(objects).latestVersion(MODEL).orElseThrow(), "the served model is unchanged");
        }
    }

    private void assertIdle() throws Exception {
        String state = Call.get(train.toURI()).send(TestTokens.bearer(Roles.TRAINER)).body();
        assertFalse(state.contains("\"running\""), "a refused request started a run: " + state);
        assertFalse(state.contains(MARKER), state);
    }

    private String awaitEnd() throws Exception {
        for (int i = 0; i < 360; i++) {
            String state = Call.get(train.toURI()).send(TestTokens.bearer(Roles.TRAINER)).body();
            if (!state.contains("\"running\"")) {
                return state;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the run did not end");
    }

    private static void publishDataset(String dataset, int count) throws Exception {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, LocalStack.shared().bootstrapServers());
        SyntheticShapes shapes = new SyntheticShapes(32, 5);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < count; i++) {
                SyntheticShapes.Sample s = shapes.next();
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(s.image(), "png", png);
                byte[] bytes = png.toByteArray();
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(Topics.TRAIN, Sha256.hex(bytes).getBytes(StandardCharsets.UTF_8), bytes);
                record.headers().add(Headers.LABEL, s.labelName().getBytes(StandardCharsets.UTF_8));
                record.headers().add(Headers.SPLIT, (i % 4 == 0 ? "valid" : "train").getBytes(StandardCharsets.UTF_8));
                record.headers().add(Headers.DATASET, dataset.getBytes(StandardCharsets.UTF_8));
                producer.send(record);
            }
        }
    }
}
