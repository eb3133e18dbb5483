package dev.petal.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The console's sign-in over real HTTP, without Kafka or a trainer: a one-time code for a bearer token, traded once
 * for an HttpOnly, SameSite=Strict session cookie; the cookie's roles decide what the API allows; a change needs the
 * console's header besides the cookie; signing out ends the session; the pages themselves are public and carry a
 * strict Content-Security-Policy.
 */
@QuarkusTest
@QuarkusTestResource(JwtTestResource.class)
class ConsoleSessionTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CODE = Pattern.compile("\"code\":\"([A-Za-z0-9_-]+)\"");

    @TestHTTPResource("/")
    URL root;

    @Test
    void aLoginCodeOpensOneSessionOnceAndTheCookieCarriesItsRoles() throws Exception {
        assertTrue(get("/api/session/state", null, null).body().contains("\"signedIn\":false"));
        HttpResponse<String> anonymous = get("/api/models", null, null);
        assertEquals(401, anonymous.statusCode(), anonymous.body());
        assertTrue(anonymous.body().contains("\"status\":401"), anonymous.body());

        assertEquals(403, post("/api/session/login-codes", TestTokens.bearer(Roles.INGESTER), null, "", false).statusCode(),
                "an ingester may not read the console");
        String code = code(TestTokens.bearer(Roles.ADMIN));
        HttpResponse<String> signedIn = post("/api/session", null, null, "{\"code\":\"" + code + "\"}", false);
        assertEquals(200, signedIn.statusCode(), signedIn.body());
        String setCookie = signedIn.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"), setCookie);
        assertFalse(signedIn.body().contains(TestTokens.token(Roles.ADMIN).substring(0, 20)), "the token never comes back to the browser");
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        assertEquals(401, post("/api/session", null, null, "{\"code\":\"" + code + "\"}", false).statusCode(), "a code works once");

        HttpResponse<String> me = get("/api/session", null, cookie);
        assertEquals(200, me.statusCode(), me.body());
        assertTrue(me.body().contains("\"promote\":true"), me.body());

        HttpResponse<String> noHeader = post("/api/train", null, cookie, "{}", false);
        assertEquals(401, noHeader.statusCode(), "a change on a cookie alone (another site's form) is refused: " + noHeader.body());
        HttpResponse<String> withHeader = post("/api/train", null, cookie, "{}", true);
        assertEquals(502, withHeader.statusCode(), "allowed, and forwarded to a trainer that is not there: " + withHeader.body());

        HttpResponse<String> out = delete("/api/session", cookie);
        assertEquals(204, out.statusCode());
        assertEquals(401, get("/api/session", null, cookie).statusCode(), "signed out");
    }

    @Test
    void aScorerReadsButMayNotPromoteReplayOrTrain() throws Exception {
        String code = code(TestTokens.bearer(Roles.SCORER));
        HttpResponse<String> signedIn = post("/api/session", null, null, "{\"code\":\"" + code + "\"}", false);
        String setCookie = signedIn.headers().firstValue("Set-Cookie").orElseThrow();
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        assertEquals(200, get("/api/scoring", null, cookie).statusCode());
        assertEquals(200, get("/api/dlq", null, cookie).statusCode());
        assertTrue(get("/api/session", null, cookie).body().contains("\"promote\":false"));
        assertEquals(403, post("/api/models/petal/aliases/champion", null, cookie, "{\"version\":\"v1\"}", true).statusCode());
        assertEquals(403, post("/api/models/petal/rollback", null, cookie, "{}", true).statusCode());
        assertEquals(403, post("/api/dlq/replay", null, cookie, "{\"errorClass\":\"x\",\"dryRun\":true}", true).statusCode());
        assertEquals(403, post("/api/train", null, cookie, "{}", true).statusCode());
    }

    /** For every role, each action the page offers ({@code can}) is one its endpoint accepts, and every other is refused. */
    @Test
    void thePagesOfferEachRoleExactlyTheActionsTheApiAccepts() throws Exception {
        Map<String, String[]> endpoints = Map.of("promote", new String[] {"/api/models/petal/aliases/champion", "{\"version\":\"v1\"}"},
                "rollback", new String[] {"/api/models/petal/rollback", "{}"}, "replay", new String[] {"/api/dlq/replay", "{\"errorClass\":\"x\"}"},
                "train", new String[] {"/api/train", "{}"});
        for (String role : List.of(Roles.SCORER, Roles.TRAINER, Roles.ADMIN)) {
            JsonNode me = JSON.readTree(get("/api/session", TestTokens.bearer(role), null).body());
            List<String> offered = new ArrayList<>();
            me.path("needs").fieldNames().forEachRemaining(offered::add);
            assertEquals(new TreeSet<>(endpoints.keySet()), new TreeSet<>(offered), "every page action says which roles it needs: " + me);
            for (String action : offered) {
                String[] endpoint = endpoints.get(action);
                int status = post(endpoint[0], TestTokens.bearer(role), null, endpoint[1], false).statusCode();
                boolean can = me.path("can").path(action).asBoolean();
                // Allowed: forwarded to a trainer that is not there (502); refused: 403 before any forwarding.
                assertEquals(can ? 502 : 403, status, role + " " + action + ": " + me);
                assertEquals(can, me.path("needs").path(action).toString().contains("\"" + role + "\""), role + " " + action);
            }
        }
        assertFalse(JSON.readTree(get("/api/session", TestTokens.bearer(Roles.SCORER), null).body()).path("can").path("replay").asBoolean(),
                "a scorer may not replay dead letters (the trainer answers 403)");
        assertTrue(JSON.readTree(get("/api/session", TestTokens.bearer(Roles.TRAINER), null).body()).path("can").path("train").asBoolean());
    }

    @Test
    void aSessionCannotMintLoginCodesAndAPastedTokenSignsIn() throws Exception {
        HttpResponse<String> pasted = post("/api/session/token", TestTokens.bearer(Roles.TRAINER), null, "", true);
        assertEquals(200, pasted.statusCode(), pasted.body());
        String setCookie = pasted.headers().firstValue("Set-Cookie").orElseThrow();
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        assertEquals(403, post("/api/session/login-codes", null, cookie, "", true).statusCode(), "codes are for bearer tokens only");
        assertEquals(401, post("/api/session", null, null, "{\"code\":\"not-a-code\"}", false).statusCode());
        assertEquals(401, get("/api/models", "Bearer " + TestTokens.expired(Roles.ADMIN), null).statusCode());
    }

    @Test
    void thePagesArePublicWithAStrictPolicy() throws Exception {
        HttpResponse<String> page = get("/", null, null);
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("Petal console"), page.body());
        String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), csp);
        assertEquals(200, get("/console.js", null, null).statusCode());
    }

    private String code(String bearer) throws Exception {
        HttpResponse<String> issued = post("/api/session/login-codes", bearer, null, "", false);
        assertEquals(200, issued.statusCode(), issued.body());
        Matcher m = CODE.matcher(issued.body());
        assertTrue(m.find(), issued.body());
        return m.group(1);
    }

    private HttpResponse<String> get(String path, String authorization, String cookie) throws Exception {
        return HTTP.send(request(path, authorization, cookie, false).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String authorization, String cookie, String body, boolean consoleHeader) throws Exception {
        return HTTP.send(request(path, authorization, cookie, consoleHeader).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> delete(String path, String cookie) throws Exception {
        return HTTP.send(request(path, null, cookie, true).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String path, String authorization, String cookie, boolean consoleHeader) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(root.toString().replaceAll("/$", "") + path)).timeout(Duration.ofSeconds(20));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (cookie != null) {
            b.header("Cookie", cookie);
        }
        if (consoleHeader) {
            b.header(SessionAuthMechanism.CSRF_HEADER, "1");
        }
        return b;
    }
}
