package dev.petal.trainer.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.auth.Roles;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Stem;
import dev.petal.common.records.DeadLetter;
import dev.petal.common.records.ModelEvent;
import dev.petal.common.records.Topics;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.GateRecord;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import dev.petal.localstack.auth.ApiAuthAssertions;
import dev.petal.localstack.auth.ApiAuthAssertions.Call;
import dev.petal.localstack.auth.JwtTestResource;
import dev.petal.localstack.auth.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The console's contract over real HTTP, against the real S3 server and broker: reads for scorer, trainer and admin,
 * moves for admin only; the JSON shapes; 404 for unknown names and versions, 409 for other labels without force;
 * every move in the history and announced on petal.models; the DLQ's counts and a dry-run replay.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@QuarkusTestResource(JwtTestResource.class)
class ModelsApiTest {
    static final String MODEL = "api-model";
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> SHAPES = List.of("circle", "cross", "square", "triangle");

    @TestHTTPResource("/")
    URL root;

    @BeforeAll
    static void publish() {
        ObjectStore objects = LocalStack.shared().objectStore();
        objects.ensureBucket();
        CheckpointStore store = new CheckpointStore(objects);
        for (String v : List.of("a1", "a2", "a3")) {
            List<String> labels = v.equals("a3") ? List.of("cat", "dog") : SHAPES;
            store.publish(new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, MODEL, v, null, "2026-12-02T08:00:00Z",
                    new ModelSpec(Architecture.RESNET18, labels, 32, Stem.SMALL, Normalization.IMAGENET), Map.of("dataset", "shapes"), 1, 10,
                    Map.of("validAccuracy", v.equals("a1") ? 0.5 : 0.75), null, null, null), Map.of(CheckpointManifest.WEIGHTS_FILE, v.getBytes()));
        }
        ModelRegistry registry = new ModelRegistry(objects);
        registry.move(MODEL, ModelRegistry.CHAMPION, "a1", AliasMove.PROMOTE, "gate: the first version", "trainer", false, null);
        registry.recordGate(MODEL, "a2", new GateRecord(0.75, 0.5, "a1", GateRecord.MANUAL, "auto-promote is off", "2026-12-02T08:01:00Z"));
    }

    private URI uri(String path) {
        return URI.create(root.toString().replaceAll("/$", "") + path);
    }

    private HttpResponse<String> post(String path, String body, String role) throws Exception {
        return Call.post(uri(path), "application/json", body.getBytes(StandardCharsets.UTF_8)).send(TestTokens.bearer(role));
    }

    @Test
    void readsForEveryReaderRoleMovesForAdminOnly() throws Exception {
        for (String path : List.of("/models", "/models/" + MODEL, "/models/" + MODEL + "/history", "/dlq")) {
            ApiAuthAssertions.assertGuarded(Call.get(uri(path)), List.of(Roles.INGESTER));
            for (String role : List.of(Roles.SCORER, Roles.TRAINER, Roles.ADMIN)) {
                HttpResponse<String> ok = Call.get(uri(path)).send(TestTokens.bearer(role));
                assertEquals(200, ok.statusCode(), path + " as " + role + ": " + ok.body());
            }
        }
        Call move = Call.post(uri("/models/" + MODEL + "/aliases/challenger"), "application/json",
                "{\"version\": \"a2\"}".getBytes(StandardCharsets.UTF_8));
        ApiAuthAssertions.assertGuarded(move, List.of(Roles.INGESTER, Roles.SCORER, Roles.TRAINER));
        ApiAuthAssertions.assertGuarded(Call.post(uri("/models/" + MODEL + "/rollback"), "application/json", new byte[0]),
                List.of(Roles.INGESTER, Roles.SCORER, Roles.TRAINER));
        ApiAuthAssertions.assertGuarded(Call.post(uri("/dlq/replay"), "application/json", "{\"dryRun\": true}".getBytes()),
                List.of(Roles.INGESTER, Roles.SCORER, Roles.TRAINER));
    }

    @Test
    void theContractsShapesMovesAndErrors() throws Exception {
        JsonNode models = JSON.readTree(Call.get(uri("/models")).send(TestTokens.bearer(Roles.SCORER)).body());
        JsonNode mine = null;
        for (JsonNode m : models) {
            if (MODEL.equals(m.path("name").asText())) {
                mine = m;
            }
        }
        assertEquals(3, mine.path("versions").asInt());
        assertEquals("a1", mine.path("aliases").path("champion").asText());

        JsonNode model = JSON.readTree(Call.get(uri("/models/" + MODEL)).send(TestTokens.bearer(Roles.TRAINER)).body());
        assertEquals(MODEL, model.path("name").asText());
        JsonNode a1 = model.path("versions").get(0);
        assertEquals("a1", a1.path("version").asText());
        assertEquals("2026-12-02T08:00:00Z", a1.path("createdAt").asText());
        assertEquals(0.5, a1.path("metrics").path("validAccuracy").asDouble());
        assertEquals("champion", a1.path("aliases").get(0).asText());
        assertEquals("resnet18", a1.path("arch").asText());
        assertEquals(SHAPES.size(), a1.path("labels").size());
        assertEquals("shapes", a1.path("dataset").asText());
        JsonNode gate = model.path("versions").get(1).path("gate");
        assertEquals("manual", gate.path("decision").asText());
        assertEquals(0.75, gate.path("candidate").asDouble());
        assertEquals(0.5, gate.path("champion").asDouble());

        HttpResponse<String> moved = post("/models/" + MODEL + "/aliases/champion", "{\"version\": \"a2\", \"reason\": \"better\"}", Roles.ADMIN);
        assertEquals(200, moved.statusCode(), moved.body());
        JsonNode move = JSON.readTree(moved.body());
        assertEquals("a1", move.path("from").asText());
        assertEquals("a2", move.path("to").asText());
        assertEquals("better", move.path("reason").asText());
        assertTrue(move.path("actor").asText().startsWith("api:"), move.path("actor").asText());

        assertError(post("/models/no-such-model/aliases/champion", "{\"version\": \"a1\"}", Roles.ADMIN), 404, "no model named");
        assertError(post("/models/" + MODEL + "/aliases/champion", "{\"version\": \"a9\"}", Roles.ADMIN), 404, "has no version 'a9'");
        assertError(post("/models/" + MODEL + "/aliases/champion", "{\"version\": \"a3\"}", Roles.ADMIN), 409, "force");
        assertError(post("/models/" + MODEL + "/aliases/Bad!", "{\"version\": \"a1\"}", Roles.ADMIN), 400, "alias");
        assertEquals(200, post("/models/" + MODEL + "/aliases/champion", "{\"version\": \"a3\", \"force\": true}", Roles.ADMIN).statusCode());

        HttpResponse<String> back = post("/models/" + MODEL + "/rollback", "", Roles.ADMIN);
        assertEquals(200, back.statusCode(), back.body());
        assertEquals("a2", JSON.readTree(back.body()).path("to").asText());
        assertEquals(200, post("/models/" + MODEL + "/rollback", "{\"alias\": \"champion\"}", Roles.ADMIN).statusCode());
        assertError(post("/models/" + MODEL + "/rollback", "{}", Roles.ADMIN), 404, "no earlier version");

        JsonNode history = JSON.readTree(Call.get(uri("/models/" + MODEL + "/history")).send(TestTokens.bearer(Roles.SCORER)).body());
        List<String> tos = new java.util.ArrayList<>();
        history.forEach(h -> tos.add(h.path("to").asText()));
        assertEquals(List.of("a1", "a2", "a3", "a2", "a1"), tos, "newest last");
        for (String field : List.of("alias", "from", "to", "reason", "actor", "at")) {
            assertTrue(history.get(1).has(field), field);
        }

        // Each move through the API was announced on petal.models.
        try (var events = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(Map.of("bootstrap.servers",
                LocalStack.shared().bootstrapServers()), new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            var partitions = events.partitionsFor(Topics.MODELS).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(Topics.MODELS, p.partition())).toList();
            events.assign(partitions);
            events.seekToBeginning(partitions);
            List<String> announced = new java.util.ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (announced.size() < 4 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : events.poll(Duration.ofMillis(500))) {
                    ModelEvent.parseAlias(r.value()).filter(m -> m.name().equals(MODEL) && m.actor().startsWith("api")).ifPresent(m -> announced.add(m.to()));
                }
            }
            assertEquals(List.of("a2", "a3", "a2", "a1"), announced);
        }
    }

    @Test
    void deadLettersAreCountedAndADryRunReplaysNothing() throws Exception {
        String marker = "api-dlq-" + System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", LocalStack.shared().bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 3; i++) {
                producer.send(DeadLetter.of(Topics.DLQ, Topics.IMAGES, 0, i, (marker + i).getBytes(), new byte[] {1, 2}, List.of(),
                        marker, "a test dead letter")).get();
            }
        }
        HttpResponse<String> listed = Call.get(uri("/dlq?errorClass=" + marker + "&limit=2")).send(TestTokens.bearer(Roles.SCORER));
        assertEquals(200, listed.statusCode(), listed.body());
        JsonNode body = JSON.readTree(listed.body());
        assertEquals(3, body.path("counts").path(marker).asInt());
        assertEquals(2, body.path("samples").size(), "limit");
        JsonNode sample = body.path("samples").get(1);
        assertEquals(Topics.IMAGES, sample.path("sourceTopic").asText());
        // The key is the dead letter's, and its source offset the one it was written with (i for key marker + i).
        assertTrue(sample.path("key").asText().startsWith(marker), sample.toString());
        assertEquals(sample.path("key").asText(), marker + sample.path("offset").asInt());
        for (String field : List.of("partition", "errorClass", "reason", "at")) {
            assertTrue(sample.has(field), field);
        }
        HttpResponse<String> dry = post("/dlq/replay", "{\"errorClass\": \"" + marker + "\", \"dryRun\": true}", Roles.ADMIN);
        assertEquals(200, dry.statusCode(), dry.body());
        assertEquals(3, JSON.readTree(dry.body()).path("matched").asInt());
        assertEquals(0, JSON.readTree(dry.body()).path("replayed").asInt());
        assertError(Call.get(uri("/dlq?since=yesterday")).send(TestTokens.bearer(Roles.SCORER)), 400, "ISO-8601");
    }

    private static void assertError(HttpResponse<String> response, int status, String says) throws Exception {
        assertEquals(status, response.statusCode(), response.body());
        JsonNode body = JSON.readTree(response.body());
        assertEquals(status, body.path("status").asInt());
        assertTrue(body.path("error").asText().contains(says), body.path("error").asText());
    }
}
