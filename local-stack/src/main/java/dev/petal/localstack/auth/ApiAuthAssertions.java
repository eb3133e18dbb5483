package dev.petal.localstack.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test assertions for an API endpoint behind bearer tokens (needs {@link JwtTestResource}): without a valid
 * token it answers 401, with a valid token of a role it does not allow 403, each with a small JSON body
 * {@code {"error": "...", "status": N}}. Whether the allowed roles get through is for each test to show,
 * since what "works" means differs per endpoint.
 */
public final class ApiAuthAssertions {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request to an endpoint: its method, address, content type and body (empty for a GET). */
    public record Call(String method, URI uri, String contentType, byte[] body) {
        public static Call get(URI uri) {
            return new Call("GET", uri, null, new byte[0]);
        }

        public static Call post(URI uri, String contentType, byte[] body) {
            return new Call("POST", uri, contentType, body);
        }

        /** Sends this call with {@code authorization} as the header's value (null: no header). */
        public HttpResponse<String> send(String authorization) throws IOException, InterruptedException {
            return send(authorization, false);
        }

        /**
         * Sends this call; with {@code expectContinue} the body waits for the server's 100 Continue (as curl does for
         * large bodies), so a body the server refuses from its length (413) is answered instead of cut off mid-write.
         */
        public HttpResponse<String> send(String authorization, boolean expectContinue) throws IOException, InterruptedException {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).expectContinue(expectContinue)
                    .method(method, body.length == 0 && method.equals("GET") ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(body));
            if (contentType != null) {
                request.header("Content-Type", contentType);
            }
            if (authorization != null) {
                request.header("Authorization", authorization);
            }
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private ApiAuthAssertions() {}

    /**
     * {@code call} is refused with 401 without a token, with a malformed one, and with tokens that expired or that
     * another issuer, audience or key made; and with 403 for a valid token of each of {@code refusedRoles}.
     */
    public static void assertGuarded(Call call, Collection<String> refusedRoles) throws IOException, InterruptedException {
        Map<String, String> unauthenticated = new LinkedHashMap<>();
        unauthenticated.put("no token", null);
        unauthenticated.put("a malformed token", "Bearer not.a.jwt");
        unauthenticated.put("another scheme", "Basic " + Base64.getEncoder().encodeToString("admin:admin".getBytes(StandardCharsets.UTF_8)));
        unauthenticated.put("an expired token", "Bearer " + TestTokens.expired("admin"));
        unauthenticated.put("another issuer's token", "Bearer " + TestTokens.otherIssuer("admin"));
        unauthenticated.put("another audience's token", "Bearer " + TestTokens.otherAudience("admin"));
        unauthenticated.put("a token signed by another key", "Bearer " + TestTokens.otherKey("admin"));
        for (Map.Entry<String, String> attempt : unauthenticated.entrySet()) {
            assertRefused(call, attempt.getValue(), 401, attempt.getKey());
        }
        for (String role : refusedRoles) {
            assertRefused(call, TestTokens.bearer(role), 403, "a token with only the role " + role);
        }
        assertRefused(call, TestTokens.bearer(), 403, "a token with no roles");
    }

    /** {@code call} with {@code authorization} answers {@code status} with the JSON error body. */
    public static void assertRefused(Call call, String authorization, int status, String what) throws IOException, InterruptedException {
        HttpResponse<String> response = call.send(authorization);
        String where = call.method() + " " + call.uri().getPath() + " with " + what;
        assertEquals(status, response.statusCode(), where + ": " + response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                where + ": JSON, not " + response.headers().firstValue("Content-Type"));
        JsonNode body = JSON.readTree(response.body());
        assertEquals(status, body.path("status").asInt(), where + ": " + response.body());
        assertTrue(body.path("error").isTextual() && !body.path("error").asText().isBlank(), where + ": " + response.body());
        assertEquals(2, body.size(), where + ": only error and status: " + response.body());
        if (status == 401) {
            assertTrue(response.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), where);
        }
    }
}
