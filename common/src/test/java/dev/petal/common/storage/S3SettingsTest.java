package dev.petal.common.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.Map;

import org.junit.jupiter.api.Test;

class S3SettingsTest {

    @Test
    void defaultsWhenNothingIsConfigured() {
        S3Settings settings = S3Settings.fromConfig(key -> null);
        assertNull(settings.endpoint());
        assertEquals("us-east-1", settings.region());
        assertEquals("petal", settings.bucket());
        assertTrue(settings.pathStyle());
        assertFalse(settings.hasStaticCredentials(), "the default AWS credentials chain");
    }

    /**
     * Without static keys the default chain runs, and on EKS with IRSA it must find the ServiceAccount's web
     * identity token: the SDK uses it only when the sts module's factory is on the class path.
     */
    @Test
    void theDefaultChainCanUseAWebIdentityToken() throws Exception {
        assertEquals("software.amazon.awssdk.services.sts.internal.StsWebIdentityCredentialsProviderFactory",
                Class.forName("software.amazon.awssdk.services.sts.internal.StsWebIdentityCredentialsProviderFactory").getName());
    }

    @Test
    void readsEveryKeyAndWritesThemBack() {
        Map<String, String> config = Map.of(
                "petal.s3.endpoint", "http://localhost:9000",
                "petal.s3.region", "eu-west-1",
                "petal.s3.bucket", "flowers",
                "petal.s3.path-style", "false",
                "petal.s3.access-key", "ak",
                "petal.s3.secret-key", "sk");
        S3Settings settings = S3Settings.fromConfig(config::get);
        assertEquals(new S3Settings(URI.create("http://localhost:9000"), "eu-west-1", "flowers", false, "ak", "sk"), settings);
        assertEquals(config, settings.toConfig());
        assertFalse(settings.toString().contains("sk"), "the secret is never printed");
    }

    @Test
    void blankValuesCountAsMissing() {
        S3Settings settings = S3Settings.fromConfig(key -> " ");
        assertNull(settings.endpoint());
        assertEquals("petal", settings.bucket());
        assertFalse(settings.hasStaticCredentials());
    }

    @Test
    void refusesHalfACredential() {
        assertThrows(IllegalArgumentException.class,
                () -> S3Settings.fromConfig(Map.of("petal.s3.access-key", "ak")::get));
    }
}
