package dev.petal.localstack.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Where ./petal up and ./petal status find a service's health: its management port, from services.properties. */
class LocalPipelineTest {

    @Test
    void healthIsOnTheManagementPortWrittenBesideTheApiPort() {
        Properties services = new Properties();
        services.setProperty("inference.port", "41001");
        services.setProperty("inference.management-port", "41002");
        assertEquals("41002", LocalPipeline.managementPort(services, "inference"));
    }

    @Test
    void aFileFromBeforeManagementPortsFallsBackToTheApiPort() {
        Properties services = new Properties();
        services.setProperty("ingest.port", "41003");
        assertEquals("41003", LocalPipeline.managementPort(services, "ingest"));
        assertEquals("-", LocalPipeline.managementPort(services, "trainer"));
    }
}
