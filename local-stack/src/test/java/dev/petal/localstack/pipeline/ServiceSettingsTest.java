package dev.petal.localstack.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.localstack.auth.KafkaUsers;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What ./petal up gives each service: its own Kafka login through the environment, nothing secret on its command line. */
class ServiceSettingsTest {
    @Test
    void aSecureStackGivesEachServiceItsOwnLoginAndNoneOnTheCommandLine(@TempDir Path auth) {
        KafkaUsers users = KafkaUsers.ensure(auth);
        Map<String, String> stack = new java.util.TreeMap<>(Map.of("kafka.bootstrap.servers", "127.0.0.1:9092",
                "petal.s3.endpoint", "http://127.0.0.1:9000"));
        stack.putAll(users.clientConfig(KafkaUsers.ADMIN)); // what StateDir.clientConfig() holds on a secure stack
        for (String service : new String[] {"ingest", "trainer", "inference"}) {
            ServiceSettings settings = ServiceSettings.of(service, stack, 8081, 9001, "127.0.0.1", auth.resolve("jwt-public.pem"), users);
            String login = settings.environment().get("KAFKA_SASL_JAAS_CONFIG");
            assertTrue(login.contains("username=\"petal-" + service + "\"") && login.contains(users.password("petal-" + service)), service);
            assertFalse(settings.properties().containsKey("kafka.sasl.jaas.config"), service + ": a login on the command line");
            for (String user : KafkaUsers.ALL) {
                assertFalse(settings.properties().values().stream().anyMatch(v -> v.contains(users.password(user))),
                        service + ": a password on the command line");
            }
            assertEquals("SASL_PLAINTEXT", settings.properties().get("kafka.security.protocol"));
            assertEquals("SCRAM-SHA-512", settings.properties().get("kafka.sasl.mechanism"));
        }
    }

    @Test
    void servicesListenWhereTheStackDoesAndVerifyTheLocalTokens(@TempDir Path auth) {
        ServiceSettings settings = ServiceSettings.of("inference", Map.of("kafka.bootstrap.servers", "127.0.0.1:9092"), 8081, 9001,
                "127.0.0.1", auth.resolve("jwt-public.pem"), null);
        assertEquals("127.0.0.1", settings.properties().get("quarkus.http.host"), "Quarkus listens on 0.0.0.0 unless told");
        assertEquals("127.0.0.1", settings.properties().get("quarkus.management.host"));
        assertEquals("8081", settings.properties().get("quarkus.http.port"));
        assertEquals("9001", settings.properties().get("quarkus.management.port"));
        assertEquals(auth.resolve("jwt-public.pem").toAbsolutePath().toString(), settings.properties().get("mp.jwt.verify.publickey.location"));
        assertEquals("petal-local", settings.properties().get("mp.jwt.verify.issuer"));
        assertEquals("petal", settings.properties().get("mp.jwt.verify.audiences"));
        assertEquals(Map.of(), settings.environment(), "no secrets without --secure");
        ServiceSettings withStorage = ServiceSettings.of("trainer", Map.of("petal.s3.access-key", "petal", "petal.s3.secret-key", "s3-secret"),
                1, 2, "127.0.0.1", auth.resolve("k"), null);
        assertEquals("s3-secret", withStorage.environment().get("PETAL_S3_SECRET_KEY"), "the storage secret goes to the environment");
        assertFalse(withStorage.properties().containsValue("s3-secret"), "and not onto the command line");
        assertEquals("petal", withStorage.properties().get("petal.s3.access-key"));
        assertEquals("0.0.0.0", ServiceSettings.of("ingest", Map.of(), 1, 2, "0.0.0.0", auth.resolve("k"), null)
                .properties().get("quarkus.http.host"));
    }
}
