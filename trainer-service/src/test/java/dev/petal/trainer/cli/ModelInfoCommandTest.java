package dev.petal.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.main.Launch;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainTest;
import org.junit.jupiter.api.Test;

/**
 * The command end to end, launched as the application. One launch per JVM loads libtorch: each launch gets a class
 * loader of its own, and a native library binds to the first (ResNetTest checks every depth's count against
 * torchvision). Usage errors are checked on the same command line in process ({@link ModelInfoUsageErrorsTest}):
 * each launch starts the whole application again.
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
}
