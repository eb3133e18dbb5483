package dev.petal.common.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class KafkaClientConfigTest {
    @Test
    void securitySettingsPassThroughFromKeysAndEnvironmentNames() {
        Map<String, String> config = Map.of(
                "kafka.bootstrap.servers", "b1:9093",
                "kafka.security.protocol", "SASL_SSL",
                "KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
                "KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "petal.s3.bucket", "petal");
        Map<String, String> extra = KafkaClientConfig.passThrough(config.keySet(), config::get);
        assertEquals(Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512",
                "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;"), extra);
        Properties props = KafkaClientConfig.from(config);
        assertEquals("b1:9093", props.get("bootstrap.servers"));
        assertEquals("SASL_SSL", props.get("security.protocol"));
    }

    @Test
    void missingBootstrapIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KafkaClientConfig.from(Map.of()));
        assertTrue(e.getMessage().contains("KAFKA_BOOTSTRAP_SERVERS"), e.getMessage());
    }
}
