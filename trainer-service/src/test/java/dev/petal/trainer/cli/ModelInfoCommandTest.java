package dev.petal.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.main.Launch;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainTest;
import org.junit.jupiter.api.Test;

/**
 * The command end to end. One launch per JVM loads libtorch: each launch gets a class loader of its own,
 * and a native library binds to the first (ResNetTest checks every depth's count against torchvision).
 */
@QuarkusMainTest
class ModelInfoCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    @Launch({"model-info", "--arch", "resnet50", "--num-classes", "1000", "--image-size", "224"})
    void printsExactCountAndShapesForResnet50(LaunchResult result) throws Exception {
        JsonNode info = JSON.readTree(result.getOutput());
        assertEquals("resnet50", info.get("arch").asText());
        assertEquals(25_557_032L, info.get("parameters").asLong());
        assertEquals("[64,112,112]", info.get("shapes").get("conv1").toString());
        assertEquals("[2048,7,7]", info.get("shapes").get("layer4").toString());
        assertEquals("[1000]", info.get("shapes").get("logits").toString());
    }

    @Test
    @Launch(value = {"model-info", "--arch", "resnet19"}, exitCode = 2)
    void unknownArchitectureIsAUsageError(LaunchResult result) {
        assertTrue(result.getErrorOutput().contains("unknown architecture 'resnet19'"), result.getErrorOutput());
    }

    @Test
    @Launch(value = {"model-info", "--no-such-flag"}, exitCode = 2)
    void unknownFlagIsAUsageError(LaunchResult result) {
        assertTrue(result.getErrorOutput().contains("Unknown option"), result.getErrorOutput());
    }
}
