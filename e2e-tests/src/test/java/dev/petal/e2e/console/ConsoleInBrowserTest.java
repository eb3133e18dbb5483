package dev.petal.e2e.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.auth.Roles;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import dev.petal.testing.HeadlessChromium;
import dev.petal.localstack.auth.LocalKeyPair;
import dev.petal.localstack.pipeline.ConsoleCommand;
import dev.petal.localstack.pipeline.DemoDataset;
import dev.petal.localstack.pipeline.LocalPipeline;
import dev.petal.localstack.pipeline.StateDir;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;

/**
 * The web console in a real headless Chromium, against the real local stack: the embedded Kafka and S3 and the four
 * services as processes, started by {@link LocalPipeline} from the packaged applications as {@code ./petal up} starts
 * them (no {@code mvn install}, no launcher). Signed in the way {@code ./petal console} does it (a token from the
 * stack's key pair traded for a one-time code, the code for the session cookie). A run started from the training
 * page's form trains a small model on generated shapes; the page follows it live; the models page lists the versions
 * it published and marks the one inference serves (the champion); promoting another in the page makes inference
 * serve it; the scoring page's counters move while images are sent; a dead letter appears on its page; a scorer is
 * offered no action. No page logs an error in the browser's console. Screenshots go to {@code target/console-screenshots/}.
 *
 * <p>Skipped, saying why, where chromium or chromedriver is missing, or the services are not packaged
 * ({@code ./mvnw -B -DskipTests package}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleInBrowserTest {
    private static final Path SHOTS = Path.of("target/console-screenshots");
    private static final String DATASET = "console-shapes";
    private static Path root;
    private static Path stateRoot;
    private static StateDir state;
    private static LocalPipeline pipeline;
    private static Properties services;
    private static HeadlessChromium chromium;
    private static ChromeDriver driver;
    private static String base;
    private static KafkaClients kafka;

    @BeforeAll
    static void upAndSignedIn() throws Exception {
        chromium = HeadlessChromium.startOrSkip(1360, 900);
        driver = chromium.driver();
        root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("petal"))) {
            root = root.getParent();
        }
        for (String service : List.of("ingest", "trainer", "inference", "console")) {
            org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(root.resolve(service + "-service/target/quarkus-app/quarkus-run.jar")),
                    service + " is not packaged: ./mvnw -B -DskipTests package");
        }
        stateRoot = Files.createTempDirectory("petal-console-e2e-");
        state = new StateDir(stateRoot);
        pipeline = new LocalPipeline(state, root, new PrintStream(System.out, true));
        services = pipeline.up();
        base = "http://" + services.getProperty("host", "127.0.0.1") + ":" + services.getProperty("console.port");
        kafka = KafkaClients.fromConfig(state.clientConfig());

        Path dataset = stateRoot.resolve("shapes");
        DemoDataset.generate(dataset, 40, DemoDataset.GENERATED_SIZE);
        int ingest = runService("ingest", List.of("dataset", dataset.toString(), "--dataset", DATASET), Duration.ofMinutes(5));
        assertTrue(ingest == 0 || ingest == 3, "ingest exit " + ingest);

        signIn(Roles.ADMIN);
    }

    @AfterAll
    static void down() throws Exception {
        if (chromium != null) {
            chromium.close();
        }
        if (pipeline != null) {
            pipeline.down();
        }
    }

    @AfterEach
    void noConsoleErrors() {
        if (chromium != null) {
            List<LogEntry> errors = chromium.severeConsoleEntries();
            assertTrue(errors.isEmpty(), "the page logged errors: " + errors);
        }
    }

    @Test
    @Order(1)
    void aRunStartedFromTheFormIsFollowedLive() throws Exception {
        open("#/training");
        await("the form lists the trainer's fields", Duration.ofSeconds(30), () -> !driver.findElements(By.id("field-epochs")).isEmpty());
        assertEquals("1000", driver.findElement(By.id("field-epochs")).getAttribute("max"), "bounds from GET /train/fields");
        setNumber("field-epochs", "3");
        setNumber("field-imageSize", "48");
        setNumber("field-batchSize", "16");
        setNumber("field-lr", "0.002");
        setNumber("field-warmupIters", "5");
        chromium.script("arguments[0].value = arguments[1]", driver.findElement(By.id("field-stem")), "small");
        WebElement datasetField = driver.findElement(By.id("field-dataset"));
        datasetField.clear();
        datasetField.sendKeys(DATASET);
        driver.findElement(By.id("train-submit")).click();
        await("the confirmation dialog", Duration.ofSeconds(5), () -> driver.findElement(By.id("confirm")).isDisplayed());
        assertTrue(driver.findElement(By.id("confirm-text")).getText().contains("epochs=3"), driver.findElement(By.id("confirm-text")).getText());
        driver.findElement(By.id("confirm-ok")).click();
        await("the run shows as running", Duration.ofSeconds(60), () -> cardText("training-cards", 0).contains("running"));
        await("the loss curve grows as steps are taken", Duration.ofSeconds(240),
                () -> ((Number) chromium.script("var p = document.querySelector('#loss-chart polyline');"
                        + " return p ? p.getAttribute('points').split(' ').length : 0")).intValue() >= 5);
        String stepBefore = cardText("training-cards", 1);
        await("the step moves without a reload", Duration.ofSeconds(60), () -> !cardText("training-cards", 1).equals(stepBefore));
        screenshot("training.png");
        await("the run ends", Duration.ofMinutes(8), () -> cardText("training-cards", 0).contains("done"));
        assertEquals(3, driver.findElements(By.cssSelector("#epoch-table tbody tr")).size(), "one row per epoch");
        screenshot("training-done.png");
    }

    @Test
    @Order(2)
    void theModelsPageListsTheVersionsTheRunPublished() throws Exception {
        List<String> published = publishedVersions();
        assertEquals(3, published.size(), "one version per epoch: " + published);
        open("#/models");
        await("every published version in the table", Duration.ofSeconds(30), () -> published.stream()
                .allMatch(v -> !driver.findElements(By.cssSelector("#models-table tr[data-version='" + v + "']")).isEmpty()));
        // The promotion gate chose the champion among the run's epochs; inference serves that one.
        await("inference serves one of the run's versions", Duration.ofMinutes(3), () -> servedVersion().filter(published::contains).isPresent());
        String served = servedVersion().orElseThrow();
        await("the served version is marked as serving", Duration.ofSeconds(30), () -> driver.findElement(
                By.cssSelector("#models-table tr[data-version='" + served + "']")).getText().contains("serving"));
        assertEquals(1, driver.findElements(By.cssSelector("#models-table tr.serving")).size(), "one version serves");
        assertTrue(cardText("models-cards", 1).contains(served), "inference serves the champion: " + cardText("models-cards", 1));
        String row = driver.findElement(By.cssSelector("#models-table tr[data-version='" + published.get(0) + "']")).getText();
        assertTrue(row.contains("resnet18") && row.contains("48 px"), row);
        assertTrue(driver.findElement(By.id("compare-table")).getText().contains("Valid accuracy"));
        boolean lifecycle = driver.findElement(By.id("models-lifecycle-note")).isDisplayed();
        if (lifecycle) {
            assertTrue(driver.findElement(By.id("models-lifecycle-note")).getText().contains("not available on this trainer"));
            assertFalse(driver.findElement(By.cssSelector("#models-table tr[data-version='" + served + "'] button")).isEnabled(),
                    "no promotion without the lifecycle API");
        }
        screenshot("models.png");
    }

    @Test
    @Order(3)
    void promotingInThePageChangesWhatInferenceServes() throws Exception {
        List<String> published = publishedVersions();
        String served = servedVersion().orElseThrow();
        String older = published.stream().filter(v -> !v.equals(served)).findFirst().orElseThrow();
        open("#/models");
        await("the version's promote button", Duration.ofSeconds(30),
                () -> !driver.findElements(By.cssSelector("#models-table tr[data-version='" + older + "'] button")).isEmpty());
        driver.findElement(By.cssSelector("#models-table tr[data-version='" + older + "'] button")).click();
        await("the confirmation dialog", Duration.ofSeconds(5), () -> driver.findElement(By.id("confirm")).isDisplayed());
        driver.findElement(By.id("confirm-ok")).click();
        awaitInferenceServes(older);
        await("the page shows the champion", Duration.ofSeconds(30), () -> cardText("models-cards", 1).contains(older));
        await("the promoted version is marked as serving", Duration.ofSeconds(30), () -> driver.findElement(
                By.cssSelector("#models-table tr[data-version='" + older + "']")).getText().contains("serving"));
        // The trainer took the move as the signed-in user's (the console forwards the user's own token).
        await("the alias history records the move and who made it", Duration.ofSeconds(30),
                () -> text("#models-history tbody tr").lines().anyMatch(r -> r.contains(older) && r.contains("api:console-e2e")));
    }

    @Test
    @Order(4)
    void theScoringCountersMoveWhileImagesAreSent() throws Exception {
        open("#/scoring");
        await("the scoring page", Duration.ofSeconds(20), () -> !cardText("scoring-cards", 4).isBlank());
        long seenBefore = number(cardText("scoring-cards", 4));
        List<Double> rates = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = kafka.producer()) {
            long until = System.nanoTime() + Duration.ofSeconds(25).toNanos();
            int i = 0;
            while (System.nanoTime() < until) {
                producer.send(new ProducerRecord<>(Topics.IMAGES, ("console-e2e-" + i).getBytes(StandardCharsets.UTF_8), shape(i++)));
                if (i % 5 == 0) {
                    producer.flush();
                    rates.add(numberOrZero(cardText("scoring-cards", 0)));
                    if (rates.get(rates.size() - 1) > 0 && number(cardText("scoring-cards", 4)) > seenBefore) {
                        break; // both seen: sending on proves nothing more
                    }
                }
                Thread.sleep(100);
            }
        }
        await("the predictions counter moved", Duration.ofSeconds(60), () -> number(cardText("scoring-cards", 4)) > seenBefore);
        assertTrue(rates.stream().anyMatch(r -> r > 0), "images/s rose above 0 while images were sent: " + rates);
        await("thumbnails of scored images", Duration.ofSeconds(30), () -> ((Number) chromium.script(
                "return Array.from(document.querySelectorAll('#recent img')).filter(i => i.complete && i.naturalWidth > 0).length")).intValue() > 0);
        assertFalse(driver.findElements(By.cssSelector("#lag-table tbody tr")).isEmpty(), "lag per partition");
        String replicas = text("#replica-table");
        assertTrue(replicas.contains(servedVersion().orElseThrow()), "the version the replica serves: " + replicas);
        screenshot("scoring.png");
    }

    @Test
    @Order(5)
    void aDeadLetterAppearsWithItsReason() throws Exception {
        open("#/dlq");
        String key = "console-e2e-garbage-" + System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = kafka.producer()) {
            producer.send(new ProducerRecord<>(Topics.IMAGES, key.getBytes(StandardCharsets.UTF_8),
                    "this is not an image".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
        }
        await("the dead letter in the samples, without a reload", Duration.ofSeconds(90),
                () -> driver.findElement(By.id("dlq-table")).getText().contains(key));
        String row = text("#dlq-table tbody tr").lines().filter(t -> t.contains(key)).findFirst().orElseThrow();
        assertTrue(row.toLowerCase(Locale.ROOT).contains("petal.images"), row);
        assertFalse(cardText("dlq-cards", 0).equals("0"), "the count");
        screenshot("dlq.png");
    }

    @Test
    @Order(6)
    void aScorerSeesEveryPageButNoAction() throws Exception {
        signIn(Roles.SCORER);
        open("#/models");
        await("the models", Duration.ofSeconds(30), () -> !driver.findElements(By.cssSelector("#models-table tr[data-version]")).isEmpty());
        assertTrue(driver.findElements(By.cssSelector("#models-table tr[data-version] button")).isEmpty(), "no promote button");
        assertTrue(driver.findElement(By.id("user")).getText().contains("read-only"));
        assertFalse(driver.findElement(By.id("rollback")).isDisplayed(), "no rollback");
        open("#/training");
        await("the training page", Duration.ofSeconds(30), () -> !cardText("training-cards", 0).isBlank());
        assertFalse(driver.findElement(By.id("train-submit")).isEnabled(), "a scorer may not start a run");
        open("#/dlq");
        await("the dead letters", Duration.ofSeconds(30), () -> !driver.findElements(By.cssSelector("#dlq-table tbody tr")).isEmpty());
        assertFalse(driver.findElement(By.id("replay-submit")).isEnabled(), "a scorer may not replay");
        driver.findElement(By.id("sign-out")).click();
        await("signed out", Duration.ofSeconds(10), () -> driver.findElement(By.id("page-signin")).isDisplayed());
        assertFalse(driver.findElement(By.id("who")).isDisplayed(), "no user, no sign-out button once signed out");
        assertFalse(driver.findElement(By.id("nav")).isDisplayed(), "no navigation once signed out");
        assertEquals(401, HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/api/models")).GET().build(),
                HttpResponse.BodyHandlers.discarding()).statusCode(), "the API without the cookie");
        screenshot("signin.png");
    }

    // ---- helpers

    /** As ./petal console does: a token from the stack's key pair, a one-time code for it, the link with the code. */
    private static void signIn(String role) throws Exception {
        LocalKeyPair keys = LocalKeyPair.find(state.authDir()).orElseThrow();
        String token = keys.issuer().mint("console-e2e", List.of(role), Duration.ofHours(1));
        String code = ConsoleCommand.loginCode(base, token);
        driver.get(base + "/#login=" + code);
        await("signed in", Duration.ofSeconds(30), () -> driver.findElement(By.id("user")).getText().contains(role));
        assertFalse(driver.getCurrentUrl().contains(code), "the code leaves the address bar: " + driver.getCurrentUrl());
        assertTrue(driver.manage().getCookies().stream().allMatch(c -> c.isHttpOnly()), "the session cookie is HttpOnly");
    }

    private static void open(String hash) {
        driver.get(base + "/" + hash);
        await("the page " + hash, Duration.ofSeconds(30), () -> driver.findElement(By.id("page-" + hash.substring(2))).isDisplayed());
    }

    /** A card's value, read in one script call: the cards are rebuilt by every live update. */
    private static String cardText(String container, int index) {
        Object text = chromium.script("var v = document.querySelectorAll('#' + arguments[0] + ' .card .v');"
                + " return v.length > arguments[1] ? v[arguments[1]].textContent : ''", container, index);
        return text == null ? "" : text.toString().trim();
    }

    /** The visible text of every element {@code css} selects, one line each, read in one script call. */
    private static String text(String css) {
        Object text = chromium.script("return Array.from(document.querySelectorAll(arguments[0]))"
                + ".map(e => e.innerText.replace(/\\s+/g, ' ')).join('\\n')", css);
        return text == null ? "" : text.toString();
    }

    /** The whole page from its top, at the test's width. */
    private static void screenshot(String name) throws IOException {
        chromium.script("window.scrollTo(0, 0)");
        chromium.screenshotOfPage(SHOTS.resolve(name), 1360);
        chromium.resize(1360, 900);
    }

    private static long number(String text) {
        return Long.parseLong(text.replace(",", "").replace("–", "0").trim());
    }

    private static double numberOrZero(String text) {
        try {
            return Double.parseDouble(text.replace(",", "").trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static void setNumber(String id, String value) {
        WebElement input = driver.findElement(By.id(id));
        input.clear();
        input.sendKeys(value);
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                last = e; // the element is being replaced by a live update
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(what + ": interrupted");
            }
        }
        throw new AssertionError("timed out waiting for " + what + (last == null ? "" : " (last: " + last + ")"));
    }

    private static List<String> publishedVersions() {
        try (ObjectStore store = new ObjectStore(S3Settings.fromConfig(state.clientConfig()::get))) {
            TreeSet<String> versions = new TreeSet<>();
            for (String key : store.list("models/petal/")) {
                String[] parts = key.split("/");
                if (parts.length == 4 && parts[3].equals("manifest.json")) {
                    versions.add(parts[2]);
                }
            }
            return List.copyOf(versions);
        }
    }

    /** The version inference serves now, as its GET /model says. */
    private static java.util.Optional<String> servedVersion() {
        try {
            LocalKeyPair keys = LocalKeyPair.find(state.authDir()).orElseThrow();
            String token = keys.issuer().mint("console-e2e", List.of(Roles.SCORER), Duration.ofMinutes(10));
            URI model = URI.create("http://" + services.getProperty("host", "127.0.0.1") + ":" + services.getProperty("inference.port") + "/model");
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(model)
                    .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return java.util.Optional.empty();
            }
            String version = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("version").asText("");
            return version.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(version);
        } catch (IOException e) {
            return java.util.Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return java.util.Optional.empty();
        }
    }

    private static void awaitInferenceServes(String version) throws Exception {
        LocalKeyPair keys = LocalKeyPair.find(state.authDir()).orElseThrow();
        String token = keys.issuer().mint("console-e2e", List.of(Roles.SCORER), Duration.ofMinutes(10));
        URI model = URI.create("http://" + services.getProperty("host", "127.0.0.1") + ":" + services.getProperty("inference.port") + "/model");
        HttpClient http = HttpClient.newHttpClient();
        await("inference serves " + version, Duration.ofMinutes(3), () -> {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(model).header("Authorization", "Bearer " + token).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200 && r.body().contains("\"" + version + "\"");
            } catch (IOException | InterruptedException e) {
                return false;
            }
        });
    }

    /** A small JPEG of one of the generated shapes' colours. */
    private static byte[] shape(int i) throws IOException {
        BufferedImage image = new BufferedImage(48, 48, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 48, 48);
        g.setColor(new Color(Color.HSBtoRGB((i % 12) / 12f, 0.8f, 0.8f)));
        if (i % 2 == 0) {
            g.fillOval(10, 10, 28, 28);
        } else {
            g.fillRect(12, 12, 24, 24);
        }
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "jpg", out);
        return out.toByteArray();
    }

    /** Runs a command of a packaged service against the stack, as the launcher would: its settings, free ports. */
    private static int runService(String service, List<String> args, Duration timeout) throws Exception {
        Map<String, String> config = state.clientConfig();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        ProcessBuilder pb = new ProcessBuilder();
        config.forEach((k, v) -> {
            if (k.contains("secret") || k.contains("password") || k.contains("jaas")) {
                pb.environment().put(k.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_"), v);
            } else {
                command.add("-D" + k + "=" + v);
            }
        });
        command.addAll(List.of("-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=0", "-Dquarkus.management.host=127.0.0.1",
                "-Dquarkus.management.port=0", "-jar", root.resolve(service + "-service/target/quarkus-app/quarkus-run.jar").toString()));
        command.addAll(args);
        pb.command(command).inheritIO();
        pb.environment().put("DJL_OFFLINE", "true");
        Process process = pb.start();
        if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(service + " " + args + " did not finish within " + timeout);
        }
        return process.exitValue();
    }
}
