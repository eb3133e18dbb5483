package dev.petal.common.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.testing.HeadlessChromium;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.logging.LogEntry;

/**
 * Opens a training report, made from a synthetic run by the code the trainer uses, in headless
 * Chromium: it must render without console errors, every chart must have drawn lines, wide content
 * must stay inside the page, and a screenshot lands in target/report-screenshots/ for people to look at.
 */
class TrainingReportInBrowserTest {
    private static final Path OUT = Path.of("target", "report-screenshots");

    @Test
    void rendersEveryChartWithoutConsoleErrorsOrPageOverflow() throws Exception {
        String html = TrainingReport.html("flowers-resnet18", "20261202-101500-e004", SyntheticRun.epochs(), SyntheticRun.steps(),
                SyntheticRun.validation());
        Files.createDirectories(OUT);
        Path page = Files.writeString(OUT.resolve("report.html"), html, StandardCharsets.UTF_8);

        try (HeadlessChromium chromium = HeadlessChromium.startOrSkip(1280, 900)) {
            chromium.open(page);
            List<LogEntry> severe = chromium.severeConsoleEntries();
            assertTrue(severe.isEmpty(), "console errors: " + severe);

            @SuppressWarnings("unchecked")
            List<Map<String, Object>> charts = (List<Map<String, Object>>) chromium.script("""
                    return [...document.querySelectorAll('figure.chart')].map(figure => {
                      const svg = figure.querySelector('svg');
                      const drawn = svg ? [...svg.querySelectorAll('path.series, polyline')].filter(line => {
                        const geometry = line.getAttribute('d') || line.getAttribute('points') || '';
                        const box = line.getBBox();
                        return geometry.trim().length > 0 && box.width > 0 && box.height > 0;
                      }).length : 0;
                      return {title: figure.querySelector('figcaption').textContent, drawn: drawn,
                              scale: svg ? svg.dataset.yScale : null, width: svg ? svg.getBoundingClientRect().width : 0};
                    });""");
            assertEquals(5, charts.size(), "charts: " + charts);
            for (Map<String, Object> chart : charts) {
                assertTrue(((Number) chart.get("drawn")).intValue() > 0, "nothing drawn in " + chart);
                assertTrue(((Number) chart.get("width")).doubleValue() > 200, "chart laid out too small: " + chart);
            }
            assertEquals("log", scaleOf(charts, "Training loss per step"), "a loss from 2.5 to 0.003 spans decades");
            assertEquals("log", scaleOf(charts, "Loss per epoch"), "one valid loss of 50 must not flatten the rest");
            assertEquals("linear", scaleOf(charts, "Accuracy per epoch"));

            assertEquals(Boolean.TRUE, chromium.script(
                    "return [...document.images].length === 2 && [...document.images].every(i => i.complete && i.naturalWidth > 0)"),
                    "both gallery thumbnails decode");

            Path screenshot = chromium.screenshotOfPage(OUT.resolve("report.png"), 1280);
            assertTrue(Files.size(screenshot) > 10_000, "screenshot written: " + screenshot.toAbsolutePath());
            assertTrue(fitsTheWindow(chromium), "no horizontal page overflow at 1280 px");
            chromium.resize(420, 900); // a phone: tables scroll inside their box, charts shrink
            assertTrue(fitsTheWindow(chromium), "no horizontal page overflow at 420 px");
            assertEquals(Boolean.TRUE, chromium.script("""
                    const box = document.querySelector('.table-wrap');
                    return box.scrollWidth > box.clientWidth;"""), "at 420 px the epoch table scrolls inside its box");
            assertTrue(chromium.severeConsoleEntries().isEmpty(), "no console errors after resizing");
        }
    }

    private static boolean fitsTheWindow(HeadlessChromium chromium) {
        return (Boolean) chromium.script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth");
    }

    private static String scaleOf(List<Map<String, Object>> charts, String title) {
        return charts.stream().filter(c -> title.equals(c.get("title"))).map(c -> (String) c.get("scale")).findFirst()
                .orElseThrow(() -> new AssertionError("no chart titled " + title + " in " + charts));
    }
}
