package dev.petal.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.testing.TestImages;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tools' application, launched as {@code ./petal bench ...} launches it: it starts (its beans wire up without a
 * broker or object storage), runs a real command, and turns a mistake into one line and exit code 2.
 */
@QuarkusMainTest
class ToolsCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void benchDataPathReadsEveryFileAndCountsWhatItRejects(QuarkusMainLauncher launcher, @TempDir Path dir) throws Exception {
        Files.write(dir.resolve("a.jpg"), TestImages.jpeg(TestImages.photo(320, 240, 1), false));
        Files.write(dir.resolve("b.jpg"), TestImages.jpeg(TestImages.photo(200, 300, 2), true));
        Files.write(dir.resolve("c.jpg"), TestImages.truncatedJpeg(3));

        LaunchResult run = launcher.launch("bench", "data-path", "--dir", dir.toString(), "--size", "64", "--threads", "2");

        assertEquals(0, run.exitCode(), run.getErrorOutput());
        JsonNode line = JSON.readTree(run.getOutput());
        assertEquals(3, line.path("images").asInt());
        assertEquals(64, line.path("size").asInt());
        int rejected = 0;
        for (JsonNode count : line.path("rejected")) {
            rejected += count.asInt();
        }
        assertEquals(1, rejected, "the truncated file, once: " + line.path("rejected"));
        assertTrue(line.path("allThreads").path("imagesPerSecond").asDouble() > 0);
    }

    @Test
    void everyToolPrintsItsHelp(QuarkusMainLauncher launcher) {
        for (String[] command : new String[][] {{"bench", "--help"}, {"soak", "--help"}, {"precision-check", "--help"}}) {
            LaunchResult help = launcher.launch(command);
            assertEquals(0, help.exitCode(), String.join(" ", command) + ": " + help.getErrorOutput());
            assertTrue(help.getOutput().startsWith("Usage: petal " + command[0]), help.getOutput());
        }
        assertTrue(launcher.launch("precision-check", "--help").getOutput().contains("--version"), "the model version option");
    }

    /** Without object storage (no stack up, no PETAL_S3_*), one line that says how to get one, not the SDK's pages. */
    @Test
    void precisionCheckWithoutObjectStorageSaysWhatToDo(QuarkusMainLauncher launcher) {
        LaunchResult run = launcher.launch("precision-check", "--model-name", "nothing");
        assertEquals(1, run.exitCode(), run.getErrorOutput());
        assertTrue(run.getErrorOutput().contains("petal precision-check: cannot read model 'nothing': "), run.getErrorOutput());
        assertTrue(!run.getErrorOutput().contains("AwsCredentialsProviderChain"), run.getErrorOutput());
    }

    @Test
    void aMistakeIsOneLineAndExitCodeTwo(QuarkusMainLauncher launcher) {
        LaunchResult noMode = launcher.launch("bench");
        assertEquals(2, noMode.exitCode());
        assertTrue(noMode.getErrorOutput().contains("say what to measure: train, infer or data-path"), noMode.getErrorOutput());
        assertEquals("", noMode.getOutput());

        LaunchResult noFolder = launcher.launch("bench", "data-path", "--dir", "/nonexistent/petal-images");
        assertEquals(2, noFolder.exitCode());
        assertTrue(noFolder.getErrorOutput().contains("no folder at /nonexistent/petal-images"), noFolder.getErrorOutput());
    }
}
