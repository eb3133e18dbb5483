package dev.petal.common.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaClientsTest {
    @Test
    void everyClientStartsFromTheConnectionSettingsLessWhatIsNoClientSetting() {
        KafkaClients clients = KafkaClients.of(Map.of("bootstrap.servers", "b1:9093", "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512", "group.id", "petal-inference-service", "devservices.enabled", "false"));
        assertEquals("b1:9093", clients.bootstrapServers());
        assertEquals(Map.of("bootstrap.servers", "b1:9093", "security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512"),
                clients.connection());
    }

    @Test
    void theKafkaKeysOfAConfigurationMap() {
        KafkaClients clients = KafkaClients.fromConfig(Map.of("kafka.bootstrap.servers", "b1:9093", "petal.s3.bucket", "petal"));
        assertEquals(Map.of("bootstrap.servers", "b1:9093"), clients.connection());
    }

    @Test
    void missingBootstrapIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KafkaClients.of(Map.of()));
        assertTrue(e.getMessage().contains("KAFKA_BOOTSTRAP_SERVERS"), e.getMessage());
    }
}
