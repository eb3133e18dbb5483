package dev.petal.tools.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** When the soak takes its memory baseline. */
class SoakWarmUpTest {
    private static Duration warmUp(String run, String warmUp, String reloadEvery) {
        SoakCommand.DurationConverter d = new SoakCommand.DurationConverter();
        SoakCommand soak = new SoakCommand(null, null);
        soak.warmUp = d.convert(warmUp);
        soak.reloadEvery = d.convert(reloadEvery);
        soak.settle = d.convert("30s");
        return soak.warmUpFor(d.convert(run));
    }

    @Test
    void includesTheFirstReload() {
        assertEquals(Duration.ofSeconds(150), warmUp("10m", "2m", "2m"));
        assertEquals(Duration.ofSeconds(120), warmUp("10m", "2m", "1m"));
    }

    @Test
    void shortRunsAndNoReloads() {
        assertEquals(Duration.ofSeconds(30), warmUp("1m", "2m", "20s")); // no room after the first reload: half the run
        assertEquals(Duration.ofSeconds(60), warmUp("2m", "2m", "30s"));
        assertEquals(Duration.ofSeconds(120), warmUp("10m", "2m", "0"));
    }
}
