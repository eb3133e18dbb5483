package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.auth.Roles;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.inference.model.ModelWatcher;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import dev.petal.localstack.auth.JwtTestResource;
import dev.petal.localstack.auth.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.zip.CRC32;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The service end to end against the real embedded broker and S3 server: the tests run in order on
 * one running service, as its life goes (no model, v1, bad inputs, v2 under load, a tampered v3).
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@QuarkusTestResource(JwtTestResource.class)
@TestProfile(InferenceServiceTest.Profile.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InferenceServiceTest {
    static final String MODEL = "svc-test";
    static final ObjectMapper JSON = new ObjectMapper();

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "petal.inference.model-name", MODEL,
                    "petal.inference.poll-interval", "3s",
                    "petal.inference.device", "cpu",
                    "petal.inference.max-batch", "8",
                    "petal.image.max-bytes", "200000",
                    "quarkus.http.test-port", "0");
        }
    }

    @Inject
    InferenceService service;

    @Inject
    ModelWatcher watcher;

    @Inject
    InferenceMetrics metrics;

    @TestHTTPResource("/")
    URL http;

    /** The management interface (health, metrics), its own port: {@code http://host:port/q/}. */
    @TestHTTPResource(value = "/", management = true)
    URL management;

    static KafkaProducer<byte[], byte[]> producer;
    static TopicReader predictions;
    static TopicReader deadLetters;
    static ObjectStore objects;
    static final Map<String, String> shaByVersion = new HashMap<>();

    @BeforeAll
    static void clients() {
        LocalStack stack = LocalStack.shared();
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer());
        predictions = new TopicReader(stack.bootstrapServers(), Topics.PREDICTIONS);
        deadLetters = new TopicReader(stack.bootstrapServers(), Topics.DLQ);
        objects = stack.objectStore();
    }

    @AfterAll
    static void closeClients() {
        producer.close();
        predictions.close();
        deadLetters.close();
        objects.close();
    }

    @Test
    @Order(1)
    void inputsWaitUntilAModelIsLoaded() throws Exception {
        service.start();
        assertEquals(503, manage("health/ready").statusCode(), "not ready before a model exists");
        assertEquals(503, get("model").statusCode());
        List<RecordMetadata> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            sent.add(send(new ProducerRecord<>(Topics.IMAGES, bytes("wait-" + i), TestModels.png(i))));
        }
        Thread.sleep(3000);
        assertEquals(0, predictions.settle(keyStartsWith("wait-"), Duration.ofMillis(300)).size(), "scored without a model?");
        assertEquals(0, deadLetters.settle(keyStartsWith("wait-"), Duration.ofMillis(100)).size(), "dead-lettered for want of a model");

        publish("v1", 1);
        List<ConsumerRecord<byte[], byte[]>> out = predictions.await(keyStartsWith("wait-"), 3, Duration.ofSeconds(60));
        assertEquals(3, out.size(), "every waiting input is scored once the model is in");
        for (ConsumerRecord<byte[], byte[]> r : out) {
            assertEquals("v1", JSON.readTree(r.value()).path("model").path("version").asText());
        }
        assertEquals(200, manage("health/ready").statusCode());
        JsonNode model = JSON.readTree(get("model").body());
        assertEquals("v1", model.path("version").asText());
        assertEquals(shaByVersion.get("v1"), model.path("sha256").asText());
        assertEquals(16, model.path("manifest").path("model").path("imageSize").asInt());
        assertEquals("fp32", model.path("precision").asText());
        // petal.inference.runtime=auto: whichever computed this network faster here at its load.
        assertTrue(List.of("libtorch", "onnxruntime").contains(model.path("runtime").asText()), model.toString());
    }

    @Test
    @Order(2)
    void everyInputGetsOnePredictionWithTheContractFields() throws Exception {
        String metricsBefore = manage("metrics").body();
        byte[] plain = TestModels.png(10);
        RecordMetadata keyed = send(new ProducerRecord<>(Topics.IMAGES, bytes("fields-keyed"), plain));

        ProducerRecord<byte[], byte[]> event = new ProducerRecord<>(Topics.IMAGES, bytes("fields-ce"), TestModels.jpeg(11));
        event.headers().add("ce_id", bytes("event-42")).add("ce_specversion", bytes("1.0"))
                .add("ce_type", bytes("dev.petal.image")).add("ce_source", bytes("/camera/1"));
        send(event);

        objects.put("claims/fields.png", TestModels.png(12));
        ProducerRecord<byte[], byte[]> claim = new ProducerRecord<>(Topics.IMAGES, bytes("fields-claim"), new byte[0]);
        claim.headers().add(Headers.IMAGE_REF, bytes("s3://" + objects.bucket() + "/claims/fields.png"));
        send(claim);

        RecordMetadata keyless = send(new ProducerRecord<>(Topics.IMAGES, null, TestModels.png(13)));
        String keylessKey = keyless.partition() + ":" + keyless.offset();

        List<ConsumerRecord<byte[], byte[]>> out = predictions.await(
                keyIn("fields-keyed", "fields-ce", "fields-claim", keylessKey), 4, Duration.ofSeconds(60));
        assertEquals(4, out.size());
        Map<String, ConsumerRecord<byte[], byte[]>> byKey = new HashMap<>();
        out.forEach(r -> byKey.put(string(r.key()), r));

        ConsumerRecord<byte[], byte[]> p = byKey.get("fields-keyed");
        JsonNode json = JSON.readTree(p.value());
        assertEquals("fields-keyed", json.path("id").asText());
        assertEquals(3, json.path("top").size(), "top-k defaults to 3");
        assertEquals(json.path("top").get(0).path("label").asText(), json.path("label").asText());
        assertEquals(json.path("top").get(0).path("score").asDouble(), json.path("score").asDouble());
        double previous = 1.0;
        for (JsonNode t : json.path("top")) {
            assertTrue(TestModels.SPEC.labels().contains(t.path("label").asText()));
            assertTrue(t.path("score").asDouble() <= previous, "top is sorted best first");
            previous = t.path("score").asDouble();
        }
        assertEquals(MODEL, json.path("model").path("name").asText());
        assertEquals("v1", json.path("model").path("version").asText());
        assertEquals(shaByVersion.get("v1"), json.path("model").path("sha256").asText());
        assertEquals(Topics.IMAGES, json.path("source").path("topic").asText());
        assertEquals(keyed.partition(), json.path("source").path("partition").asInt());
        assertEquals(keyed.offset(), json.path("source").path("offset").asLong());
        assertTrue(json.path("latencyMs").asDouble() >= 0 && json.path("latencyMs").asDouble() < 60_000);
        assertEquals("v1", string(p.headers().lastHeader(Headers.MODEL_VERSION).value()));

        // Where the time went: each of the 4 images decoded once, and every stage of their batches timed.
        String metricsAfter = manage("metrics").body();
        for (String part : InferenceMetrics.IMAGE_PARTS) {
            assertEquals(4, meter(metricsAfter, "petal_inference_image_seconds_count", "part", part)
                    - meter(metricsBefore, "petal_inference_image_seconds_count", "part", part), part);
        }
        for (String stage : List.of("decode", "model", "serialise", "publish")) {
            assertTrue(meter(metricsAfter, "petal_inference_stage_seconds_count", "stage", stage)
                    > meter(metricsBefore, "petal_inference_stage_seconds_count", "stage", stage), stage);
            assertTrue(meter(metricsAfter, "petal_inference_stage_seconds_sum", "stage", stage) > 0, stage);
        }

        ConsumerRecord<byte[], byte[]> ce = byKey.get("fields-ce");
        assertEquals("event-42", JSON.readTree(ce.value()).path("id").asText(), "the CloudEvents id becomes the prediction id");
        assertEquals("/camera/1", string(ce.headers().lastHeader("ce_source").value()));
        assertEquals("dev.petal.image", string(ce.headers().lastHeader("ce_type").value()));

        assertEquals("fields-claim", JSON.readTree(byKey.get("fields-claim").value()).path("id").asText());
        assertEquals(keylessKey, JSON.readTree(byKey.get(keylessKey).value()).path("id").asText());

        // POST /predict gives the same answer for the same bytes and model.
        HttpResponse<String> direct = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(http + "predict?id=direct"))
                .header("Content-Type", "image/png").header("Authorization", TestTokens.bearer(Roles.SCORER))
                .POST(HttpRequest.BodyPublishers.ofByteArray(plain)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, direct.statusCode(), direct.body());
        JsonNode directJson = JSON.readTree(direct.body());
        assertEquals("direct", directJson.path("id").asText());
        // Same labels in the same order; scores equal up to float rounding (the stream scored this image in
        // a batch with others, /predict alone, and convolution kernels round differently per batch size).
        assertEquals(json.path("top").size(), directJson.path("top").size());
        for (int i = 0; i < json.path("top").size(); i++) {
            assertEquals(json.path("top").get(i).path("label"), directJson.path("top").get(i).path("label"));
            assertEquals(json.path("top").get(i).path("score").asDouble(), directJson.path("top").get(i).path("score").asDouble(), 1e-4);
        }
        HttpResponse<String> junk = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(http + "predict"))
                .header("Content-Type", "application/octet-stream").header("Authorization", TestTokens.bearer(Roles.SCORER))
                .POST(HttpRequest.BodyPublishers.ofString("hello")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(422, junk.statusCode());
        assertEquals("not-an-image", JSON.readTree(junk.body()).path("errorClass").asText());
    }

    @Test
    @Order(3)
    void badInputsAreDeadLetteredWhileGoodOnesScore() throws Exception {
        byte[] png = TestModels.png(20);
        Map<String, byte[]> bad = new TreeMap<>();
        bad.put("bad-text", bytes("this is not an image"));
        bad.put("bad-truncated", Arrays.copyOf(png, png.length / 2));
        bad.put("bad-bomb", bomb(png));
        bad.put("bad-empty", new byte[0]);
        byte[] big = new byte[300_000];
        System.arraycopy(png, 0, big, 0, 16);
        bad.put("bad-large", big);
        Map<String, String> expected = Map.of("bad-text", "not-an-image", "bad-truncated", "truncated",
                "bad-bomb", "too-many-pixels", "bad-empty", "empty", "bad-large", "too-large",
                "bad-foreign-claim", "claim-check-refused", "bad-missing-claim", "claim-check-unreachable");
        Map<String, RecordMetadata> sent = new HashMap<>();
        int good = 0;
        for (Map.Entry<String, byte[]> e : bad.entrySet()) {
            sent.put(e.getKey(), send(new ProducerRecord<>(Topics.IMAGES, bytes(e.getKey()), e.getValue())));
            send(new ProducerRecord<>(Topics.IMAGES, bytes("good-" + good), TestModels.png(100 + good++)));
        }
        ProducerRecord<byte[], byte[]> foreign = new ProducerRecord<>(Topics.IMAGES, bytes("bad-foreign-claim"), bytes("v"));
        foreign.headers().add(Headers.IMAGE_REF, bytes("s3://someone-elses-bucket/secret.png"));
        sent.put("bad-foreign-claim", send(foreign));
        ProducerRecord<byte[], byte[]> missing = new ProducerRecord<>(Topics.IMAGES, bytes("bad-missing-claim"), null);
        missing.headers().add(Headers.IMAGE_REF, bytes("s3://" + objects.bucket() + "/claims/nothing-here.png"));
        sent.put("bad-missing-claim", send(missing));
        send(new ProducerRecord<>(Topics.IMAGES, bytes("good-" + good), TestModels.png(100 + good++)));

        assertEquals(good, predictions.await(keyStartsWith("good-"), good, Duration.ofSeconds(60)).size());
        List<ConsumerRecord<byte[], byte[]>> dead = deadLetters.await(keyStartsWith("bad-"), expected.size(), Duration.ofSeconds(30));
        assertEquals(expected.size(), dead.size());
        for (ConsumerRecord<byte[], byte[]> d : dead) {
            String key = string(d.key());
            assertEquals(expected.get(key), header(d, Headers.ERROR_CLASS), key + ": " + header(d, Headers.ERROR_REASON));
            assertTrue(header(d, Headers.ERROR_REASON).length() > 3);
            assertEquals(Topics.IMAGES, header(d, Headers.SOURCE_TOPIC));
            assertEquals(sent.get(key).partition(), Integer.parseInt(header(d, Headers.SOURCE_PARTITION)));
            assertEquals(sent.get(key).offset(), Long.parseLong(header(d, Headers.SOURCE_OFFSET)));
            if (bad.containsKey(key)) {
                assertArrayEquals(bad.get(key), d.value(), key + ": value untouched");
            }
        }
        assertEquals(0, predictions.settle(keyStartsWith("bad-"), Duration.ofMillis(200)).size(), "a bad input got a prediction too");
    }

    @Test
    @Order(4)
    void hotReloadUnderASteadyStreamLosesAndRepeatsNothing() throws Exception {
        int total = 60;
        Map<String, RecordMetadata> sent = new HashMap<>();
        for (int i = 0; i < total; i++) {
            if (i == 15) {
                publish("v2", 2);
            }
            sent.put("steady-" + i, send(new ProducerRecord<>(Topics.IMAGES, bytes("steady-" + i), TestModels.png(1000 + i))));
            Thread.sleep(50);
        }
        List<ConsumerRecord<byte[], byte[]>> out = predictions.await(keyStartsWith("steady-"), total, Duration.ofSeconds(120));
        out = predictions.settle(keyStartsWith("steady-"), Duration.ofSeconds(1));
        assertEquals(total, out.size(), "one prediction per input, no more, no less");
        Set<String> keys = new HashSet<>();
        Map<Integer, TreeMap<Long, String>> versionsByPartition = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : out) {
            assertTrue(keys.add(string(r.key())), "scored twice: " + string(r.key()));
            JsonNode json = JSON.readTree(r.value());
            String version = json.path("model").path("version").asText();
            assertEquals(version, header(r, Headers.MODEL_VERSION));
            assertEquals(shaByVersion.get(version), json.path("model").path("sha256").asText());
            RecordMetadata in = sent.get(string(r.key()));
            versionsByPartition.computeIfAbsent(in.partition(), p -> new TreeMap<>()).put(in.offset(), version);
        }
        assertEquals(sent.keySet(), keys);
        Set<String> versions = new HashSet<>();
        for (TreeMap<Long, String> inOrder : versionsByPartition.values()) {
            boolean swapped = false;
            for (String version : inOrder.values()) {
                versions.add(version);
                swapped |= version.equals("v2");
                assertTrue(!swapped || version.equals("v2"), "v1 scored an input after v2 had: " + inOrder);
            }
        }
        assertEquals(Set.of("v1", "v2"), versions, "the stream spans the swap");
        assertEquals("v2", JSON.readTree(get("model").body()).path("version").asText());
    }

    @Test
    @Order(5)
    void aTamperedVersionIsRefusedAndTheOldOneKeepsServing() throws Exception {
        double refusalsBefore = metrics.refusals();
        byte[] weights = TestModels.weights(3);
        String prefix = CheckpointStore.versionPrefix(MODEL, "v3");
        CheckpointManifest manifest = TestModels.draft(MODEL, "v3").withFiles(Map.of(CheckpointManifest.WEIGHTS_FILE,
                new CheckpointManifest.FileEntry(weights.length, Sha256.hex(weights))));
        byte[] tampered = weights.clone();
        tampered[tampered.length - 1] ^= 0x01;
        objects.put(prefix + CheckpointManifest.WEIGHTS_FILE, tampered);
        objects.put(prefix + CheckpointManifest.MANIFEST_FILE, CheckpointStore.toJson(manifest));
        objects.put(CheckpointStore.latestKey(MODEL), bytes("v3"));
        TestModels.promote(objects, producer, MODEL, "v3"); // an admin promotes it: inference verifies it all the same
        announce(manifest);

        long deadline = System.currentTimeMillis() + 30_000;
        while (!watcher.refusedVersions().contains("v3") && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(watcher.refusedVersions().contains("v3"), "v3 was not refused");
        assertEquals(refusalsBefore + 1, metrics.refusals());
        assertTrue(manage("metrics").body().contains("petal_inference_model_refusals_total"));

        for (int i = 0; i < 3; i++) {
            send(new ProducerRecord<>(Topics.IMAGES, bytes("after-refusal-" + i), TestModels.png(2000 + i)));
        }
        List<ConsumerRecord<byte[], byte[]>> out = predictions.await(keyStartsWith("after-refusal-"), 3, Duration.ofSeconds(60));
        assertEquals(3, out.size());
        for (ConsumerRecord<byte[], byte[]> r : out) {
            assertEquals("v2", JSON.readTree(r.value()).path("model").path("version").asText());
        }
        assertEquals(200, manage("health/ready").statusCode());
        assertEquals(200, manage("health/live").statusCode());
    }

    /** The Kafka clients' own metrics are on the management port with the service's: per-partition lag, record rates. */
    @Test
    @Order(6)
    void kafkaClientMetricsAreOnTheManagementPort() throws Exception {
        String metrics = "";
        long deadline = System.currentTimeMillis() + 120_000; // per-partition meters appear at the binder's next refresh
        while (System.currentTimeMillis() < deadline) {
            metrics = manage("metrics").body();
            if (metrics.contains("kafka_consumer_fetch_manager_records_lag{") && metrics.contains("partition=")) {
                break;
            }
            Thread.sleep(1000);
        }
        assertTrue(metrics.contains("kafka_consumer_fetch_manager_records_lag{"), "consumer lag per partition");
        assertTrue(metrics.contains("kafka_consumer_fetch_manager_records_consumed_rate"), "records consumed per second");
        assertTrue(metrics.contains("kafka_producer_record_send_rate"), "records sent per second");
    }

    // ---- helpers

    /** A meter's value in Prometheus text, by one tag; 0 when absent. */
    private static double meter(String body, String name, String tag, String value) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + name + "\\{[^}]*" + tag + "=\"" + value
                + "\"[^}]*\\} ([-0-9.Ee+]+)$").matcher(body);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static void publish(String version, int seed) throws Exception {
        byte[] weights = TestModels.weights(seed);
        shaByVersion.put(version, Sha256.hex(weights));
        CheckpointManifest manifest = new CheckpointStore(objects).publish(TestModels.draft(MODEL, version),
                Map.of(CheckpointManifest.WEIGHTS_FILE, weights));
        TestModels.promote(objects, producer, MODEL, version); // inference serves the champion
        announce(manifest);
    }

    /** The trainer's petal.models event: key = model name, value = the manifest's object key and the manifest. */
    private static void announce(CheckpointManifest manifest) throws Exception {
        String key = CheckpointStore.versionPrefix(manifest.name(), manifest.version()) + CheckpointManifest.MANIFEST_FILE;
        String value = "{\"key\":\"" + key + "\",\"manifest\":" + new String(CheckpointStore.toJson(manifest), StandardCharsets.UTF_8) + "}";
        send(new ProducerRecord<>(Topics.MODELS, bytes(manifest.name()), bytes(value)));
    }

    /** A valid PNG whose header claims 100000 x 100000 pixels. */
    private static byte[] bomb(byte[] png) {
        byte[] b = png.clone();
        // IHDR data starts at byte 16: width, height (big-endian), then its CRC at 29..32.
        for (int i : new int[] {16, 20}) {
            b[i] = 0;
            b[i + 1] = 0x01;
            b[i + 2] = (byte) 0x86;
            b[i + 3] = (byte) 0xA0;
        }
        CRC32 crc = new CRC32();
        crc.update(b, 12, 17);
        long v = crc.getValue();
        b[29] = (byte) (v >>> 24);
        b[30] = (byte) (v >>> 16);
        b[31] = (byte) (v >>> 8);
        b[32] = (byte) v;
        return b;
    }

    private static RecordMetadata send(ProducerRecord<byte[], byte[]> record) throws Exception {
        return producer.send(record).get();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(http + path))
                .header("Authorization", TestTokens.bearer(Roles.SCORER)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GET on the management interface; {@code path} below {@code /q/}. */
    private HttpResponse<String> manage(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(management + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static Predicate<ConsumerRecord<byte[], byte[]>> keyStartsWith(String prefix) {
        return r -> r.key() != null && string(r.key()).startsWith(prefix);
    }

    private static Predicate<ConsumerRecord<byte[], byte[]>> keyIn(String... keys) {
        Set<String> set = Set.of(keys);
        return r -> r.key() != null && set.contains(string(r.key()));
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        assertNotNull(h, "no header " + name);
        return string(h.value());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
