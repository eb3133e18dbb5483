package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.petal.common.auth.Roles;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.registry.RegistryException;
import dev.petal.common.checkpoint.ManifestSigner;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ModelSpec;
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
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Model integrity (issue #8) with {@code petal.checkpoint.verify-key} set: a signed version is served;
 * unsigned, mis-signed, misplaced and shape-inconsistent versions and events pointing outside
 * {@code models/<name>/} are refused while the served version keeps scoring, each counted on
 * {@code /q/metrics} under its reason. One running service, tests in order.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@QuarkusTestResource(JwtTestResource.class)
@TestProfile(ModelIntegrityTest.Profile.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ModelIntegrityTest {
    static final String MODEL = "integrity-test";
    static final ObjectMapper JSON = new ObjectMapper();
    /** A fixed Ed25519 pair made with openssl (docs/configuration.md): test keys, they sign nothing else. */
    static final String PRIVATE_KEY = "ed25519:MC4CAQAwBQYDK2VwBCIEINYOCI84lwbrQD2yccDPkcDl/Wy/DcrNX3wSsKywMb7r";
    static final String PUBLIC_KEY = "ed25519:MCowBQYDK2VwAyEACeB4uefepn58p89mFBL11R73WHzIPo9JjyD5Awj/cT4=";

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "petal.inference.model-name", MODEL,
                    "petal.inference.poll-interval", "2s",
                    "petal.inference.device", "cpu",
                    "petal.inference.max-batch", "8",
                    "petal.checkpoint.verify-key", PUBLIC_KEY,
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
    static ObjectStore objects;
    static CheckpointStore signing;
    static int inputs;

    @BeforeAll
    static void clients() {
        LocalStack stack = LocalStack.shared();
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer());
        predictions = new TopicReader(stack.bootstrapServers(), Topics.PREDICTIONS);
        objects = stack.objectStore();
        signing = new CheckpointStore(objects, ManifestSigner.parse(PRIVATE_KEY));
    }

    @AfterAll
    static void closeClients() {
        producer.close();
        predictions.close();
        objects.close();
    }

    @Test
    @Order(1)
    void aSignedVersionIsServed() throws Exception {
        service.start();
        CheckpointManifest published = signing.publish(TestModels.draft(MODEL, "s1"),
                Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(1)));
        assertTrue(published.signature().startsWith("ed25519:"), published.signature());
        promote("s1");
        announce(published);
        assertServing("s1");
        JsonNode model = JSON.readTree(get("model").body());
        assertEquals(published.signature(), model.path("manifest").path("signature").asText());
        assertEquals(0.0, metrics.refusals(), "nothing refused yet");
    }

    @Test
    @Order(2)
    void anUnsignedVersionIsRefused() throws Exception {
        double before = metrics.refusals("signature");
        // Correct files and sha256, promoted, events sent: only the signature is missing.
        CheckpointManifest s2 = new CheckpointStore(objects).publish(TestModels.draft(MODEL, "s2"),
                Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(2)));
        promote("s2");
        announce(s2);
        awaitRefused("s2");
        assertEquals(before + 1, metrics.refusals("signature"));
        assertServing("s1");
    }

    @Test
    @Order(3)
    void misSignedVersionsAreRefused() throws Exception {
        double before = metrics.refusals("signature");
        // Signed with a key inference does not trust.
        String stranger = "ed25519:" + Base64.getEncoder().encodeToString(
                KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate().getEncoded());
        CheckpointManifest s3 = new CheckpointStore(objects, ManifestSigner.parse(stranger)).publish(TestModels.draft(MODEL, "s3"),
                Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(3)));
        promote("s3");
        announce(s3);
        awaitRefused("s3");

        // Signed with the right key, then edited in storage: two labels swapped. Shapes and sha256 still
        // match, so only the signature can tell.
        CheckpointManifest s4 = signing.publish(TestModels.draft(MODEL, "s4"), Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(4)));
        String key = CheckpointStore.versionPrefix(MODEL, "s4") + CheckpointManifest.MANIFEST_FILE;
        ObjectNode stored = (ObjectNode) JSON.readTree(objects.get(key));
        ArrayNode labels = (ArrayNode) stored.path("model").path("labels");
        JsonNode first = labels.get(0);
        labels.set(0, labels.get(1));
        labels.set(1, first);
        objects.put(key, JSON.writeValueAsBytes(stored));
        promote("s4");
        announce(s4);
        awaitRefused("s4");

        assertEquals(before + 2, metrics.refusals("signature"));
        assertServing("s1");
    }

    @Test
    @Order(4)
    void signedManifestsThatDoNotFitTheirWeightsOrFolderAreRefused() throws Exception {
        double shape = metrics.refusals("shape");
        double outside = metrics.refusals("outside-prefix");
        // Signed and sha256-correct, but the manifest names 3 labels for 4-label weights ...
        ModelSpec threeLabels = TestModels.SPEC.withLabels(TestModels.SPEC.labels().subList(0, 3));
        CheckpointManifest s5 = signing.publish(draft("s5", threeLabels), Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(5)));
        promote("s5");
        announce(s5);
        awaitRefused("s5");
        // ... or ResNet-34 for ResNet-18 weights.
        ModelSpec deeper = new ModelSpec(TestModels.SPEC.network().withArchitecture(Architecture.RESNET34), TestModels.SPEC.labels());
        CheckpointManifest s6 = signing.publish(draft("s6", deeper), Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(6)));
        promote("s6");
        announce(s6);
        awaitRefused("s6");
        assertEquals(shape + 2, metrics.refusals("shape"));

        // A validly signed manifest copied into another version's folder: it describes s1, not s7. No alias can point at
        // it (the registry reads the manifest first), and its event is ignored: no followed alias points at s7.
        String s1Prefix = CheckpointStore.versionPrefix(MODEL, "s1");
        String s7Prefix = CheckpointStore.versionPrefix(MODEL, "s7");
        objects.put(s7Prefix + CheckpointManifest.WEIGHTS_FILE, objects.get(s1Prefix + CheckpointManifest.WEIGHTS_FILE));
        objects.put(s7Prefix + CheckpointManifest.MANIFEST_FILE, objects.get(s1Prefix + CheckpointManifest.MANIFEST_FILE));
        RegistryException misplaced = assertThrows(RegistryException.class, () -> promote("s7"));
        assertEquals(409, misplaced.status(), misplaced.getMessage());
        double notAliased = metrics.refusals(InferenceMetrics.NOT_ALIASED);
        sendEvent(MODEL, "{\"key\":\"" + s7Prefix + CheckpointManifest.MANIFEST_FILE + "\"}");
        long deadline = System.currentTimeMillis() + 30_000;
        while (metrics.refusals(InferenceMetrics.NOT_ALIASED) < notAliased + 1 && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(notAliased + 1, metrics.refusals(InferenceMetrics.NOT_ALIASED));
        assertEquals(outside, metrics.refusals("outside-prefix"));
        assertFalse(watcher.refusedVersions().contains("s7"), "never tried");
        // The champion (s6, refused) is put back on s1, which serves all along.
        promote("s1");
        assertServing("s1");
    }

    @Test
    @Order(5)
    void eventsPointingOutsideTheModelsPrefixAreRefused() throws Exception {
        double before = metrics.refusals("outside-prefix");
        // A good, signed version elsewhere: another model's folder, and the same key in another bucket.
        CheckpointManifest elsewhere = signing.publish(TestModels.draft("another-model", "e1"),
                Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(7)));
        String elsewhereKey = CheckpointStore.versionPrefix("another-model", "e1") + CheckpointManifest.MANIFEST_FILE;
        String manifest = new String(CheckpointStore.toJson(elsewhere), StandardCharsets.UTF_8);
        List<String> events = List.of(
                // claims to be our model, points at another model's files
                "{\"key\":\"" + elsewhereKey + "\",\"manifest\":" + manifest.replace("\"another-model\"", "\"" + MODEL + "\"") + "}",
                // no manifest, the record key is our model, the object key is not ours
                "{\"key\":\"" + elsewhereKey + "\"}",
                // our prefix, someone else's bucket
                "{\"key\":\"s3://someone-elses-bucket/models/" + MODEL + "/s1/manifest.json\"}",
                // climbs out of the prefix
                "{\"key\":\"models/" + MODEL + "/../another-model/e1/manifest.json\"}",
                // the manifest says one version, the key another
                "{\"key\":\"models/" + MODEL + "/s1/manifest.json\",\"manifest\":{\"name\":\"" + MODEL + "\",\"version\":\"s9\"}}");
        // First the other model's own event, under our record key so that it shares the partition and is
        // read before the bad ones: it is none of our business, ignored and not counted.
        sendEvent(MODEL, "{\"key\":\"" + elsewhereKey + "\",\"manifest\":" + manifest + "}");
        for (String event : events) {
            sendEvent(MODEL, event);
        }
        long deadline = System.currentTimeMillis() + 30_000;
        while (metrics.refusals("outside-prefix") < before + events.size() && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(before + events.size(), metrics.refusals("outside-prefix"));
        assertFalse(watcher.refusedVersions().contains("e1"), "an event is refused, not the version it names");
        assertFalse(watcher.refusedVersions().contains("s1"));
        assertServing("s1");
    }

    @Test
    @Order(6)
    void everyRefusalIsOnTheMetricsPageByReason() throws Exception {
        String page = manage("metrics").body();
        assertEquals(3.0, counter(page, "signature"), "s2, s3, s4");
        assertEquals(2.0, counter(page, "shape"), "s5, s6");
        assertEquals(5.0, counter(page, "outside-prefix"), "five events");
        assertEquals(1.0, counter(page, "not-aliased"), "the event of s7, which no alias points at");
        assertEquals(0.0, counter(page, "sha256"));
        assertEquals(metrics.refusals(), counter(page, "signature") + counter(page, "shape") + counter(page, "outside-prefix")
                + counter(page, "not-aliased"));
        assertEquals("s1", JSON.readTree(get("model").body()).path("version").asText());
        assertEquals(200, manage("health/ready").statusCode());
        assertEquals(200, manage("health/live").statusCode());
    }

    // ---- helpers

    private static CheckpointManifest draft(String version, ModelSpec spec) {
        CheckpointManifest d = TestModels.draft(MODEL, version);
        return new CheckpointManifest(d.formatVersion(), d.name(), d.version(), d.parentVersion(), d.createdAt(), spec, d.recipe(),
                d.epoch(), d.step(), d.metrics(), d.dataset(), d.files(), null);
    }

    /** An input is scored by {@code version}: the refused ones never took over. */
    private void assertServing(String version) throws Exception {
        String key = "integrity-" + inputs++;
        producer.send(new ProducerRecord<>(Topics.IMAGES, bytes(key), TestModels.png(inputs))).get();
        List<ConsumerRecord<byte[], byte[]>> out = predictions.await(
                r -> r.key() != null && key.equals(new String(r.key(), StandardCharsets.UTF_8)), 1, Duration.ofSeconds(60));
        assertEquals(1, out.size(), "no prediction for " + key + "; refused: " + watcher.refusedVersions());
        assertEquals(version, JSON.readTree(out.get(0).value()).path("model").path("version").asText());
    }

    private void awaitRefused(String version) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!watcher.refusedVersions().contains(version) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(watcher.refusedVersions().contains(version), version + " was not refused");
    }

    /** {@code petal_inference_model_refusals_total{reason="..."}} as /q/metrics shows it. */
    private static double counter(String page, String reason) {
        Matcher m = Pattern.compile("(?m)^petal_inference_model_refusals_total\\{[^}]*reason=\"" + Pattern.quote(reason)
                + "\"[^}]*} (\\S+)(?: # .*)?$").matcher(page); // an OpenMetrics exemplar may follow the value
        assertTrue(m.find(), "no refusal counter for " + reason + " on /q/metrics: "
                + page.lines().filter(l -> l.contains("refusals")).toList());
        return Double.parseDouble(m.group(1));
    }

    /** Points champion at {@code version}, announced: what an admin's ./petal model promote --force does. */
    private static void promote(String version) {
        TestModels.promote(objects, producer, MODEL, version);
    }

    /** The trainer's petal.models event: key = model name, value = the manifest's object key and the manifest. */
    private static void announce(CheckpointManifest manifest) throws Exception {
        String key = CheckpointStore.versionPrefix(manifest.name(), manifest.version()) + CheckpointManifest.MANIFEST_FILE;
        sendEvent(manifest.name(), "{\"key\":\"" + key + "\",\"manifest\":" + new String(CheckpointStore.toJson(manifest), StandardCharsets.UTF_8) + "}");
    }

    private static void sendEvent(String recordKey, String value) throws Exception {
        producer.send(new ProducerRecord<>(Topics.MODELS, bytes(recordKey), bytes(value))).get();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(http + path))
                .header("Authorization", TestTokens.bearer(Roles.ADMIN)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GET on the management interface; {@code path} below {@code /q/}. */
    private HttpResponse<String> manage(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(management + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
