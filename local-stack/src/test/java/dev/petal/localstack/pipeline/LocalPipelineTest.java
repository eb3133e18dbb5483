package dev.petal.localstack.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.localstack.Listening;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where ./petal up and ./petal status find a service's health (its management port, from services.properties), and
 * that up never changes how a running stack runs.
 */
class LocalPipelineTest {

    @Test
    void healthIsOnTheManagementPortWrittenBesideTheApiPort() {
        Properties services = new Properties();
        services.setProperty("inference.port", "41001");
        services.setProperty("inference.management-port", "41002");
        assertEquals("41002", LocalPipeline.managementPort(services, "inference"));
    }

    @Test
    void upRefusesToChangeTheModeOrAddressOfARunningStack(@TempDir Path dir) throws Exception {
        // A running stack, as far as its state says: this test's own process stands in for it.
        Files.writeString(dir.resolve(StateDir.STACK_FILE), "pid=" + ProcessHandle.current().pid()
                + "\nsecure=false\nbind=127.0.0.1\nhost=127.0.0.1\nkafka.bootstrap.servers=127.0.0.1:1\n");
        LocalPipeline pipeline = new LocalPipeline(new StateDir(dir), dir, new PrintStream(new ByteArrayOutputStream()));
        IllegalStateException secure = assertThrows(IllegalStateException.class,
                () -> pipeline.up(new LocalPipeline.Options(true, null)));
        assertTrue(secure.getMessage().contains("without --secure") && secure.getMessage().contains("./petal down"), secure.getMessage());
        IllegalStateException bind = assertThrows(IllegalStateException.class,
                () -> pipeline.up(new LocalPipeline.Options(false, Listening.on("0.0.0.0"))));
        assertTrue(bind.getMessage().contains("listens on 127.0.0.1"), bind.getMessage());
    }

    @Test
    void aFileFromBeforeManagementPortsFallsBackToTheApiPort() {
        Properties services = new Properties();
        services.setProperty("ingest.port", "41003");
        assertEquals("41003", LocalPipeline.managementPort(services, "ingest"));
        assertEquals("-", LocalPipeline.managementPort(services, "trainer"));
    }
}
