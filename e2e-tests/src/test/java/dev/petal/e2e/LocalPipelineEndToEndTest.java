package dev.petal.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.petal.localstack.pipeline.DemoDataset;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The user's path, through the launcher and real processes: {@code ./petal demo} on a generated
 * dataset (up, ingest, train, hot-load, score), the API with {@code ./petal token}'s tokens, a third-party
 * Kafka client, status, down. The demo runs on 4 x {@value #PER_CLASS} generated shapes for {@value #EPOCHS} epochs
 * ({@code --epochs}), not the demo's own 4 x 150 for 8: the same steps and the same claims, less training.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalPipelineEndToEndTest {
    private static final Pattern FINAL_LINE = Pattern.compile(
            "demo: (\\d+) images scored, accuracy ([0-9.]+)%, model (\\S+), report (\\S+)");
    /** Generated images per shape, and the demo's epochs: enough for the gate to choose and for well above chance. */
    static final int PER_CLASS = 60;
    static final int EPOCHS = 4;
    private static Path root;
    private static Path state;
    private static Path dataset;

    /** Exit code and everything the command printed. */
    record Run(int exit, String output) {}

    @BeforeAll
    static void generateDataset() throws IOException {
        root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("petal"))) {
            root = root.getParent();
        }
        state = Files.createTempDirectory("petal-e2e-");
        dataset = state.resolve("shapes");
        DemoDataset.generate(dataset, PER_CLASS, DemoDataset.GENERATED_SIZE);
    }

    @AfterAll
    static void down() throws Exception {
        petal(120, "down");
    }

    @Test
    @Order(1)
    void demoScoresEveryValidImageAndWritesTheReport() throws Exception {
        Run demo = petal(1200, "demo", "--dataset", dataset.toString(), "--epochs", Integer.toString(EPOCHS));
        assertEquals(0, demo.exit(), demo.output());
        Matcher last = FINAL_LINE.matcher(demo.output());
        assertTrue(last.find(), "no final demo line in:\n" + demo.output());
        int scored = Integer.parseInt(last.group(1));
        int images = 4 * PER_CLASS;
        assertTrue(scored >= images / 10 && scored <= images * 3 / 10, "about 20% of " + images + " images are held out, scored " + scored);
        assertTrue(Double.parseDouble(last.group(2)) > 25.0, "above chance (4 classes): " + last.group(2));
        // Inference served the champion: the run's best epoch, not the first one to be published.
        Matcher champion = Pattern.compile("demo: champion (\\S+) \\(valid accuracy ([0-9.]+)%\\); the gate kept out (\\d+) of this run's (\\d+) candidates")
                .matcher(demo.output());
        assertTrue(champion.find(), "no champion line in:\n" + demo.output());
        assertEquals(champion.group(1), last.group(3), "the model that scored is the champion");
        assertEquals(Integer.parseInt(champion.group(4)) - 1, Integer.parseInt(champion.group(3)), "one candidate of the run is promoted");
        String report = Files.readString(Path.of(last.group(4)));
        assertTrue(report.contains("<svg") && report.contains("Confusion matrix") && report.contains("data:image/jpeg;base64,"),
                "report has curves, matrix and images");
    }

    @Test
    @Order(2)
    void aSecondUpSaysItIsAlreadyUp() throws Exception {
        Run up = petal(120, "up");
        assertEquals(0, up.exit(), up.output());
        assertTrue(up.output().contains("already up"), up.output());
        Run status = petal(60, "status");
        assertEquals(0, status.exit(), status.output());
    }

    @Test
    @Order(3)
    void theApisTakeTheTokensOfPetalTokenAndRefuseOthers() throws Exception {
        Properties services = new Properties();
        try (var in = Files.newInputStream(state.resolve("services.properties"))) {
            services.load(in);
        }
        URI model = URI.create("http://" + services.getProperty("host", "127.0.0.1") + ":" + services.getProperty("inference.port") + "/model");
        assertEquals(401, get(model, null).statusCode(), "no token");
        Run scorer = petal(60, "token", "--role", "scorer");
        assertEquals(0, scorer.exit(), scorer.output());
        HttpResponse<String> served = get(model, lastLine(scorer.output()));
        assertEquals(200, served.statusCode(), served.body());
        assertTrue(served.body().contains("\"version\""), served.body());
        Run ingester = petal(60, "token", "--role", "ingester", "--ttl", "5m");
        assertEquals(403, get(model, lastLine(ingester.output())).statusCode(), "a token without the scorer role");
    }

    private static HttpResponse<String> get(URI uri, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(java.time.Duration.ofSeconds(10)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String lastLine(String output) {
        List<String> lines = output.lines().map(String::trim).filter(l -> !l.isEmpty()).toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    @Test
    @Order(4)
    void kcatScoresAJpegWithNoPetalCode() throws Exception {
        assumeTrue(onPath("kcat"), "kcat is not installed (.ci/run installs it)");
        Properties stack = new Properties();
        try (var in = Files.newInputStream(state.resolve("stack.properties"))) {
            stack.load(in);
        }
        String broker = stack.getProperty("kafka");
        BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.ORANGE);
        g.fillOval(8, 8, 48, 48);
        g.dispose();
        Path jpeg = state.resolve("kcat-input.jpg");
        ImageIO.write(image, "jpg", jpeg.toFile());

        Run produce = run(60, List.of("kcat", "-P", "-b", broker, "-t", "petal.images", "-k", "kcat-e2e-1", jpeg.toString()));
        assertEquals(0, produce.exit(), produce.output());
        String answer = "";
        for (int attempt = 0; attempt < 60 && !answer.contains("kcat-e2e-1\t"); attempt++) {
            answer = run(60, List.of("kcat", "-C", "-b", broker, "-t", "petal.predictions", "-o", "beginning", "-e",
                    "-q", "-f", "%k\t%s\n")).output();
            Thread.sleep(1000);
        }
        String line = answer.lines().filter(l -> l.startsWith("kcat-e2e-1\t")).findFirst().orElse("");
        assertTrue(line.contains("\"label\"") && line.contains("\"model\""), "prediction for kcat-e2e-1 in:\n" + answer);
        assertEquals(1, answer.lines().filter(l -> l.startsWith("kcat-e2e-1\t")).count(), "exactly one prediction");
    }

    @Test
    @Order(5)
    void downStopsEverything() throws Exception {
        Run down = petal(120, "down");
        assertEquals(0, down.exit(), down.output());
        assertTrue(down.output().contains("stopped the local stack"), down.output());
        Run status = petal(60, "status");
        assertEquals(3, status.exit(), status.output());
    }

    static Run petal(int timeoutSeconds, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(root.resolve("petal").toString());
        command.addAll(List.of(args));
        return run(timeoutSeconds, command);
    }

    static Run run(int timeoutSeconds, List<String> command) throws Exception {
        Path log = Files.createTempFile(state, "run-", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PETAL_STATE_DIR", state.toString());
        Process process = pb.start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Run(-1, "timed out after " + timeoutSeconds + " s:\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println("$ " + String.join(" ", command) + "\n" + output);
        return new Run(process.exitValue(), output);
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
