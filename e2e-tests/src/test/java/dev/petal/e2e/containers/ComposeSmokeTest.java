package dev.petal.e2e.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.petal.localstack.pipeline.DemoDataset;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testcontainers.containers.ComposeContainer;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.ContainerState;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.MountableFile;

/**
 * The repository's {@code docker-compose.yml} as a user brings it up (Testcontainers' compose support, images built
 * from the packaged services): a small generated dataset is ingested with the ingest image's own command, a quick
 * model trained through the trainer's {@code POST /train}, and an image scored with kcat through the broker's external
 * listener ({@code localhost:29092}), no Petal code on the client side. Runs with {@code mvn verify -Pcontainers};
 * skipped where no Docker engine is reachable, or without kcat.
 */
@Tag("containers")
@ExtendWith(RequiresDocker.class)
class ComposeSmokeTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String BROKER = "localhost:29092";

    @Test
    void composeUpIngestTrainAndScoreWithKcat() throws Exception {
        assumeTrue(onPath("kcat"), "needs kcat on the PATH (apt-get install kcat)");
        Path root = PackagedService.root();
        Path work = Files.createTempDirectory("petal-compose-");
        Path dataset = work.resolve("shapes");
        DemoDataset.generate(dataset, 20, 48);
        ComposeContainer compose = new ComposeContainer(new File(root.toFile(), "docker-compose.yml"))
                .withBuild(true)
                .waitingFor("ingest", Wait.forHealthcheck())
                .waitingFor("trainer", Wait.forHealthcheck())
                .waitingFor("inference", Wait.forHealthcheck())
                .withStartupTimeout(Duration.ofMinutes(10));
        compose.start();
        try {
            ContainerState ingest = compose.getContainerByServiceName("ingest").orElseThrow();
            ingest.copyFileToContainer(MountableFile.forHostPath(dataset), "/tmp/shapes");
            // A second JVM beside the ingest service's own, on ports of its own, as ./petal runs commands.
            Container.ExecResult ingested = ingest.execInContainer("java", "-Dquarkus.http.port=0", "-Dquarkus.management.port=0",
                    "-jar", "/deployments/quarkus-run.jar", "dataset", "/tmp/shapes", "--dataset", "shapes");
            assertEquals(0, ingested.getExitCode(), ingested.getStdout() + ingested.getStderr());

            HttpResponse<String> training = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8082/train"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"dataset\": \"shapes\", \"imageSize\": 48, \"stem\": \"small\","
                            + " \"epochs\": 1, \"batchSize\": 16}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, training.statusCode(), training.body());
            awaitModel(Duration.ofMinutes(15));

            Path image;
            try (Stream<Path> files = Files.walk(dataset)) {
                image = files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).findFirst().orElseThrow();
            }
            assertEquals(0, run(List.of("kcat", "-P", "-b", BROKER, "-t", "petal.images", "-k", "compose-smoke-1", image.toString()))
                    .exitCode);
            String answer = "";
            for (int attempt = 0; attempt < 120 && !answer.contains("compose-smoke-1\t"); attempt++) {
                answer = run(List.of("kcat", "-C", "-b", BROKER, "-t", "petal.predictions", "-o", "beginning", "-e", "-q",
                        "-f", "%k\t%s\n")).output;
                Thread.sleep(1000);
            }
            String line = answer.lines().filter(l -> l.startsWith("compose-smoke-1\t")).findFirst().orElse("");
            assertTrue(line.contains("\"label\"") && line.contains("\"model\""), "a prediction for compose-smoke-1 in:\n" + answer);
        } finally {
            compose.stop();
        }
    }

    /** Waits until inference serves a model (GET /model answers 200). */
    private static void awaitModel(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> model = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8083/model")).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (model.statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException e) {
                // not answering yet
            }
            Thread.sleep(2000);
        }
        throw new AssertionError("inference served no model within " + timeout);
    }

    private record Result(int exitCode, String output) {}

    private static Result run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        return new Result(process.exitValue(), output);
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
