package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.main.Launch;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainTest;
import org.junit.jupiter.api.Test;

/** The command line as launched by {@code ./petal}: usage errors exit with code 2. */
@QuarkusMainTest
class UsageTest {
    @Test
    @Launch(value = {"classify", "some.png"}, exitCode = 2)
    void classifyNeedsAModel(LaunchResult result) {
        assertTrue(result.getErrorOutput().contains("--model"), result.getErrorOutput());
    }

    @Test
    @Launch(value = {"predictions", "--no-such-flag"}, exitCode = 2)
    void unknownFlagIsAUsageError(LaunchResult result) {
        assertTrue(result.getErrorOutput().contains("Unknown option"), result.getErrorOutput());
    }
}
