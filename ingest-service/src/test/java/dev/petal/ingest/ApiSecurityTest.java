package dev.petal.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.petal.testing.TestImages;
import dev.petal.common.auth.Roles;
import dev.petal.localstack.LocalStackTestResource;
import dev.petal.localstack.auth.ApiAuthAssertions;
import dev.petal.localstack.auth.ApiAuthAssertions.Call;
import dev.petal.localstack.auth.JwtTestResource;
import dev.petal.localstack.auth.TestTokens;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/** POST /images over real HTTP: a valid token with the ingester or admin role, else 401 or 403; oversized bodies 413. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
@WithTestResource(JwtTestResource.class)
class ApiSecurityTest {
    @TestHTTPResource("/images")
    URL images;

    private Call upload(String id, byte[] body) throws Exception {
        return Call.post(URI.create(images + "?id=" + id), "application/octet-stream", body);
    }

    @Test
    void uploadsNeedTheIngesterOrAdminRole() throws Exception {
        ApiAuthAssertions.assertGuarded(upload("auth-refused", TestImages.noiseJpeg(32, 1)), List.of(Roles.SCORER, Roles.TRAINER));
        for (String role : List.of(Roles.INGESTER, Roles.ADMIN)) {
            HttpResponse<String> accepted = upload("auth-" + role, TestImages.noiseJpeg(32, role.length())).send(TestTokens.bearer(role));
            assertEquals(202, accepted.statusCode(), role + ": " + accepted.body());
        }
    }

    @Test
    void aBodyOverTheImageLimitIs413BeforeItIsRead() throws Exception {
        byte[] oversized = new byte[20 * 1024 * 1024 + 1]; // quarkus.http.limits.max-body-size=20M
        HttpResponse<String> refused = upload("too-big", oversized).send(TestTokens.bearer(Roles.INGESTER), true);
        assertEquals(413, refused.statusCode(), refused.body());
    }
}
