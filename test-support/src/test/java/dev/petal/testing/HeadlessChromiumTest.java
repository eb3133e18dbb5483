package dev.petal.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the helper finds the browser and the driver, and that it sees a page's errors (else "no errors" proves nothing). */
class HeadlessChromiumTest {
    @TempDir
    Path dir;

    @Test
    void seesAScriptErrorAndAMissingImageAsSevere() throws Exception {
        Path page = Files.writeString(dir.resolve("broken.html"),
                "<!doctype html><html><body><img src=\"missing.png\"><script>notDefined();</script></body></html>");
        try (HeadlessChromium chromium = HeadlessChromium.startOrSkip(800, 600)) {
            chromium.open(page);
            List<String> messages = chromium.severeConsoleEntries().stream().map(e -> e.getMessage()).toList();
            assertTrue(messages.stream().anyMatch(m -> m.contains("notDefined")), "the script error: " + messages);
            assertTrue(messages.stream().anyMatch(m -> m.contains("missing.png")), "the failed load: " + messages);
            assertTrue(chromium.severeConsoleEntries().isEmpty(), "each entry is reported once");
        }
    }

    @Test
    void aMissingExecutableIsReportedAsAbsent() {
        assertTrue(HeadlessChromium.executable("/nonexistent/chromium", List.of("petal-no-such-browser")).isEmpty());
    }

    @Test
    void thePreferredPathWinsThenThePath() {
        Path sh = HeadlessChromium.executable("/nonexistent/chromium", List.of("petal-no-such-browser", "sh")).orElseThrow();
        assertTrue(Files.isExecutable(sh) && sh.getFileName().toString().equals("sh"), sh.toString());
        assertEquals(sh, HeadlessChromium.executable(sh.toString(), List.of("petal-no-such-browser")).orElseThrow());
    }
}
