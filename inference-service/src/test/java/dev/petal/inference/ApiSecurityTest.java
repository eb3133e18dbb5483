package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.auth.Roles;
import dev.petal.localstack.LocalStackTestResource;
import dev.petal.localstack.auth.ApiAuthAssertions;
import dev.petal.localstack.auth.ApiAuthAssertions.Call;
import dev.petal.localstack.auth.JwtTestResource;
import dev.petal.localstack.auth.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * POST /predict (raw and multipart) and GET /model over real HTTP: a valid token with the scorer or admin role,
 * else 401 or 403 with a JSON body; bodies over the limit 413. No model is loaded here, so a request that gets
 * through reaches the endpoint's own 503 "no-model" answer; InferenceServiceTest scores with a scorer token.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@QuarkusTestResource(JwtTestResource.class)
class ApiSecurityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BOUNDARY = "petal-test-boundary";

    @TestHTTPResource("/")
    URL http;

    private List<Call> endpoints() throws Exception {
        byte[] png = TestModels.png(1);
        return List.of(
                Call.post(URI.create(http + "predict"), "image/png", png),
                Call.post(URI.create(http + "predict"), "multipart/form-data; boundary=" + BOUNDARY, multipart(png)),
                Call.get(URI.create(http + "model")));
    }

    @Test
    void everyEndpointNeedsTheScorerOrAdminRole() throws Exception {
        for (Call call : endpoints()) {
            ApiAuthAssertions.assertGuarded(call, List.of(Roles.INGESTER, Roles.TRAINER));
            for (String role : List.of(Roles.SCORER, Roles.ADMIN)) {
                HttpResponse<String> reached = call.send(TestTokens.bearer(role));
                assertEquals(503, reached.statusCode(), call.method() + " " + call.uri() + " as " + role + ": " + reached.body());
                assertEquals("no-model", JSON.readTree(reached.body()).path("errorClass").asText(), reached.body());
            }
        }
    }

    @Test
    void aBodyOverTheLimitIs413BeforeItIsRead() throws Exception {
        byte[] oversized = new byte[21 * 1024 * 1024 + 1]; // quarkus.http.limits.max-body-size=21M
        HttpResponse<String> refused = Call.post(URI.create(http + "predict"), "application/octet-stream", oversized)
                .send(TestTokens.bearer(Roles.SCORER), true);
        assertEquals(413, refused.statusCode(), refused.body());
    }

    private static byte[] multipart(byte[] file) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(file);
        out.write(("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }
}
