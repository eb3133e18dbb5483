package dev.petal.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.auth.Roles;
import dev.petal.localstack.auth.JwtTestResource;
import dev.petal.localstack.auth.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The console against a trainer that serves the model lifecycle's contract (issue #25; {@link FakeTrainer}): aliases,
 * gate decisions and history reach the models view; promote and replay go to the contract's endpoints with the
 * caller's own token and body and come back as the trainer answered; an endpoint the trainer lacks (rollback, here)
 * is 501 "not available on this trainer".
 */
@QuarkusTest
@QuarkusTestResource(JwtTestResource.class)
@QuarkusTestResource(value = FakeTrainer.class, restrictToAnnotatedClass = true)
class LifecycleContractTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URL root;

    @Test
    void theModelsViewCarriesTheLifecyclesAliasesAndHistory() throws Exception {
        HttpResponse<String> models = send("GET", "/api/models", TestTokens.bearer(Roles.SCORER), null);
        assertEquals(200, models.statusCode(), models.body());
        JsonNode lifecycle = JSON.readTree(models.body()).path("lifecycle");
        assertTrue(lifecycle.path("available").asBoolean(), models.body());
        assertEquals("v2", lifecycle.path("aliases").path("champion").asText());
        assertEquals("v3", lifecycle.path("aliases").path("challenger").asText());
        assertEquals("v2", lifecycle.path("history").path(0).path("to").asText());
    }

    @Test
    void promoteAndReplayReachTheContractsEndpointsWithTheCallersToken() throws Exception {
        String admin = TestTokens.bearer(Roles.ADMIN);
        String move = "{\"version\":\"v3\",\"force\":false,\"reason\":\"from the console\"}";
        HttpResponse<String> promoted = send("POST", "/api/models/petal/aliases/champion", admin, move);
        assertEquals(200, promoted.statusCode(), promoted.body());
        assertEquals("v3", JSON.readTree(promoted.body()).path("to").asText());
        FakeTrainer.Seen seen = FakeTrainer.SEEN.stream().filter(s -> s.path().equals("/models/petal/aliases/champion")).reduce((a, b) -> b)
                .orElseThrow();
        assertEquals("POST", seen.method());
        assertEquals(admin, seen.authorization(), "the trainer gets the caller's own token");
        assertEquals(move, seen.body());

        HttpResponse<String> replay = send("POST", "/api/dlq/replay", admin, "{\"errorClass\":\"not-an-image\",\"dryRun\":true}");
        assertEquals(200, replay.statusCode(), replay.body());
        assertEquals(2, JSON.readTree(replay.body()).path("matched").asInt());
        assertTrue(JSON.readTree(send("GET", "/api/dlq", admin, null).body()).path("replay").path("available").asBoolean());

        HttpResponse<String> rollback = send("POST", "/api/models/petal/rollback", admin, "{\"alias\":\"champion\"}");
        assertEquals(501, rollback.statusCode(), rollback.body());
        assertTrue(rollback.body().contains("not available on this trainer"), rollback.body());
    }

    private HttpResponse<String> send(String method, String path, String authorization, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(root.toString().replaceAll("/$", "") + path))
                .timeout(Duration.ofSeconds(20)).header("Authorization", authorization);
        if (body != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
