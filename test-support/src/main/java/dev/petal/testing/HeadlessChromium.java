package dev.petal.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

/**
 * The system's Chromium, headless, driven through its chromedriver, for tests that look at a page as
 * a browser renders it (the training report; a web console). Nothing is downloaded: both binaries come
 * from the system ({@code apt-get install chromium chromium-driver}), and because the driver's path is
 * given to the service, Selenium never runs Selenium Manager. Where either is missing,
 * {@link #startOrSkip} skips the calling test instead of failing it.
 *
 * <p>Every module's tests use it through petal-test-support (test scope).
 */
public final class HeadlessChromium implements AutoCloseable {
    public static final String INSTALL_HINT = "apt-get install chromium chromium-driver";
    private static final List<String> BROWSER_NAMES = List.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable");

    /**
     * Selenium warns on every start that it has no DevTools bindings for this Chromium's version; these
     * tests use WebDriver only. Held here, as java.util.logging keeps loggers weakly.
     */
    private static final Logger CDP_VERSION_LOG = Logger.getLogger("org.openqa.selenium.devtools.CdpVersionFinder");

    private final ChromeDriver driver;

    private HeadlessChromium(ChromeDriver driver) {
        this.driver = driver;
    }

    /**
     * Starts Chromium with a {@code width x height} window, or skips the test (a JUnit assumption) when
     * chromium or chromedriver is not installed.
     */
    public static HeadlessChromium startOrSkip(int width, int height) {
        CDP_VERSION_LOG.setLevel(Level.SEVERE);
        Optional<Path> browser = executable("/usr/bin/chromium", BROWSER_NAMES);
        Optional<Path> chromedriver = executable("/usr/bin/chromedriver", List.of("chromedriver"));
        assumeTrue(browser.isPresent(), "no chromium, chromium-browser or google-chrome on PATH: " + INSTALL_HINT);
        assumeTrue(chromedriver.isPresent(), "no chromedriver on PATH: " + INSTALL_HINT);
        ChromeOptions options = new ChromeOptions();
        options.setBinary(browser.get().toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-background-networking", "--disable-extensions", "--hide-scrollbars",
                "--window-size=" + width + "," + height);
        // Keeps what the page logs to its console for severeConsoleEntries().
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, Level.ALL.getName()));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.get().toFile())
                .usingAnyFreePort()
                .withTimeout(Duration.ofSeconds(30))
                .build();
        return new HeadlessChromium(new ChromeDriver(service, options));
    }

    /** {@code preferred} when it is executable, else the first of {@code names} on PATH. */
    static Optional<Path> executable(String preferred, List<String> names) {
        Path direct = Path.of(preferred);
        if (Files.isExecutable(direct)) {
            return Optional.of(direct);
        }
        String path = System.getenv().getOrDefault("PATH", "");
        return names.stream()
                .flatMap(name -> Stream.of(path.split(File.pathSeparator)).filter(dir -> !dir.isEmpty()).map(dir -> Path.of(dir, name)))
                .filter(Files::isExecutable)
                .findFirst();
    }

    public ChromeDriver driver() {
        return driver;
    }

    /** Opens a local file and waits until the page has loaded. */
    public void open(Path file) {
        driver.get(file.toAbsolutePath().toUri().toString());
    }

    /** Runs JavaScript in the page; its {@code return} value comes back (numbers as Long or Double, arrays as lists). */
    public Object script(String javascript, Object... args) {
        return driver.executeScript(javascript, args);
    }

    /** What the page logged at SEVERE level (uncaught errors, failed loads, console.error) since the last call. */
    public List<LogEntry> severeConsoleEntries() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .toList();
    }

    public void resize(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
    }

    /**
     * A PNG of the whole page at {@code width} CSS pixels: the window grows to the page's height first
     * (a screenshot shows only the window).
     */
    public Path screenshotOfPage(Path png, int width) throws IOException {
        resize(width, 800);
        long height = ((Number) script("return Math.ceil(document.documentElement.scrollHeight)")).longValue();
        resize(width, (int) Math.min(height + 100, 16_000));
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.copy(driver.getScreenshotAs(OutputType.FILE).toPath(), png, StandardCopyOption.REPLACE_EXISTING);
        return png;
    }

    @Override
    public void close() {
        driver.quit();
    }
}
