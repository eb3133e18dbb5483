package dev.petal.trainer.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.auth.Roles;
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
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * POST /train over real HTTP: a valid token with the trainer or admin role, else 401 or 403 with a JSON body; the
 * reads (GET /train, GET /train/fields) also take scorer's (the console's read-only role); a body over 64 KiB is 413. The runs asked for here name a dataset that is not on petal.train, so
 * they start (202) and fail at once, without training.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@QuarkusTestResource(JwtTestResource.class)
class ApiSecurityTest {
    private static final byte[] RUN = "{\"dataset\": \"no-such-dataset\"}".getBytes(StandardCharsets.UTF_8);

    @TestHTTPResource("/train")
    URL train;

    @Test
    void startingNeedsTheTrainerOrAdminRoleReadingAlsoScorer() throws Exception {
        Call start = Call.post(train.toURI(), "application/json", RUN);
        Call status = Call.get(train.toURI());
        Call fields = Call.get(URI.create(train + "/fields"));
        ApiAuthAssertions.assertGuarded(start, List.of(Roles.SCORER, Roles.INGESTER));
        ApiAuthAssertions.assertGuarded(status, List.of(Roles.INGESTER));
        ApiAuthAssertions.assertGuarded(fields, List.of(Roles.INGESTER));
        for (String role : List.of(Roles.SCORER, Roles.TRAINER, Roles.ADMIN)) {
            HttpResponse<String> described = fields.send(TestTokens.bearer(role));
            assertEquals(200, described.statusCode(), role + ": " + described.body());
            assertTrue(described.body().contains("\"name\":\"epochs\"") && described.body().contains("\"max\":1000"), described.body());
        }
        assertEquals(200, status.send(TestTokens.bearer(Roles.SCORER)).statusCode());
        for (String role : List.of(Roles.TRAINER, Roles.ADMIN)) {
            HttpResponse<String> state = status.send(TestTokens.bearer(role));
            assertEquals(200, state.statusCode(), role + ": " + state.body());
            HttpResponse<String> started = start.send(TestTokens.bearer(role));
            assertEquals(202, started.statusCode(), role + ": " + started.body());
            awaitIdle(status, role);
        }
    }

    @Test
    void aBodyOver64KiBIs413BeforeItIsRead() throws Exception {
        byte[] oversized = new byte[64 * 1024 + 1]; // quarkus.http.limits.max-body-size=64K
        HttpResponse<String> refused = Call.post(URI.create(train.toString()), "application/json", oversized)
                .send(TestTokens.bearer(Roles.TRAINER), true);
        assertEquals(413, refused.statusCode(), refused.body());
    }

    private static void awaitIdle(Call status, String role) throws Exception {
        for (int i = 0; i < 240; i++) {
            String body = status.send(TestTokens.bearer(role)).body();
            if (!body.contains("\"running\"")) {
                assertTrue(body.contains("\"failed\"") && body.contains("no-such-dataset"), body);
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the run did not end");
    }
}
