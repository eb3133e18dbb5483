package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.storage.ObjectStore;
import io.quarkus.test.common.QuarkusTestResource;
import dev.petal.inference.cli.InferenceCommand;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code petal classify} (the picocli command, run in the test's application): the same prediction JSON from a folder, from S3 and
 * from safetensors, no Kafka; and the command line's usage errors exit with code 2.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@TestProfile(InferenceServiceTest.Profile.class)
class ClassifyCommandTest {
    /** What a command run printed and returned. */
    record LaunchResult(int exitCode, List<String> out, String err) {
        String getErrorOutput() {
            return err;
        }

        String getOutput() {
            return String.join("\n", out);
        }
    }

    @Inject
    CommandLine.IFactory factory;

    /** Runs the command line as {@code ./petal} would, capturing stdout and stderr. */
    synchronized LaunchResult launch(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
            int code = new CommandLine(InferenceCommand.class, factory).execute(args);
            System.out.flush();
            return new LaunchResult(code, stdout.toString(StandardCharsets.UTF_8).lines().toList(), stderr.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path modelDir;
    static Path safetensors;
    static Path circle;
    static Path square;
    static Path notAnImage;
    static byte[] weights;

    @BeforeAll
    static void fixtures() throws Exception {
        weights = TestModels.weights(7);
        modelDir = tmp.resolve("model");
        TestModels.writeDirectory(modelDir, "cli", "v1", weights);
        circle = Files.write(tmp.resolve("circle.png"), TestModels.png(1));
        square = Files.write(tmp.resolve("square.jpg"), TestModels.jpeg(2));
        notAnImage = Files.writeString(tmp.resolve("notes.png"), "definitely not a picture");
        // A checkpoint's weights file is torchvision-named safetensors: the same bytes load as a bare weights file.
        safetensors = Files.write(tmp.resolve("cli.safetensors"), weights);
    }

    @Test
    void scoresFilesFromACheckpointFolderAndReportsBadOnes() throws Exception {
        LaunchResult result = launch("classify", circle.toString(), notAnImage.toString(), square.toString(),
                "--model", modelDir.toString());
        assertEquals(1, result.exitCode(), "one input was bad");
        List<String> lines = jsonLines(result);
        assertEquals(2, lines.size(), result.getOutput());
        JsonNode first = JSON.readTree(lines.get(0));
        assertEquals("circle.png", first.path("id").asText());
        assertEquals(circle.toString(), first.path("source").path("file").asText());
        assertEquals("cli", first.path("model").path("name").asText());
        assertEquals("v1", first.path("model").path("version").asText());
        assertEquals(dev.petal.common.checkpoint.Sha256.hex(weights), first.path("model").path("sha256").asText());
        assertEquals(3, first.path("top").size());
        assertEquals(first.path("top").get(0).path("label").asText(), first.path("label").asText());
        assertEquals("square.jpg", JSON.readTree(lines.get(1)).path("id").asText());
        assertTrue(result.getErrorOutput().contains("notes.png: not-an-image"), result.getErrorOutput());
    }

    @Test
    void theSameWeightsScoreTheSameFromS3AndFromSafetensors() throws Exception {
        JsonNode fromDir = json(launch("classify", circle.toString(), "--model", modelDir.toString()));
        try (ObjectStore objects = LocalStack.shared().objectStore()) {
            CheckpointStore store = new CheckpointStore(objects);
            if (store.latestVersion("cli").isEmpty()) {
                store.publish(TestModels.draft("cli", "v1"), Map.of(CheckpointManifest.WEIGHTS_FILE, weights));
            }
        }
        LaunchResult s3 = launch("classify", circle.toString(), "--model", "s3://petal/models/cli/v1");
        assertEquals(0, s3.exitCode(), s3.getErrorOutput());
        assertEquals(fromDir.path("top"), json(s3).path("top"));
        LaunchResult latest = launch("classify", circle.toString(), "--model", "s3://petal/models/cli");
        assertEquals("v1", json(latest).path("model").path("version").asText(), latest.getErrorOutput());

        LaunchResult st = launch("classify", circle.toString(), "--model", safetensors.toString(),
                "--labels", String.join(",", TestModels.SPEC.labels()), "--image-size", "16", "--small-stem", "--top-k", "4");
        assertEquals(0, st.exitCode(), st.getErrorOutput());
        JsonNode fromSafetensors = json(st);
        assertEquals(4, fromSafetensors.path("top").size());
        for (int i = 0; i < 3; i++) {
            assertEquals(fromDir.path("top").get(i).path("label").asText(), fromSafetensors.path("top").get(i).path("label").asText());
            assertEquals(fromDir.path("top").get(i).path("score").asDouble(), fromSafetensors.path("top").get(i).path("score").asDouble(), 1e-5);
        }
    }

    /** Int8 needs the calibration a validated checkpoint carries: with it, the labels fp32 gives; without, one line. */
    @Test
    void scoresInInt8FromACalibratedCheckpointAndSaysWhatToDoWithoutOne() throws Exception {
        LaunchResult uncalibrated = launch("classify", circle.toString(), "--model", modelDir.toString(), "--precision", "int8");
        assertEquals(1, uncalibrated.exitCode(), uncalibrated.getErrorOutput());
        assertTrue(uncalibrated.getErrorOutput().contains("model cli/v1 carries no int8 calibration"), uncalibrated.getErrorOutput());
        assertTrue(!uncalibrated.getErrorOutput().contains("\tat "), "no stack trace: " + uncalibrated.getErrorOutput());

        byte[] trained = TestModels.trainedWeights();
        Path calibrated = tmp.resolve("calibrated");
        TestModels.writeDirectory(calibrated, "cli", "v2", trained, TestModels.calibration(trained));
        Path fp32Dir = tmp.resolve("uncalibrated-trained");
        TestModels.writeDirectory(fp32Dir, "cli", "v2", trained);
        for (Path image : List.of(circle, square)) {
            JsonNode int8 = json(launch("classify", image.toString(), "--model", calibrated.toString(), "--precision", "int8"));
            JsonNode fp32 = json(launch("classify", image.toString(), "--model", fp32Dir.toString()));
            assertEquals(fp32.path("label").asText(), int8.path("label").asText(), image.toString());
            assertEquals(fp32.path("top").get(0).path("score").asDouble(), int8.path("top").get(0).path("score").asDouble(), 0.05);
        }
    }

    @Test
    void refusesWeightsThatDoNotMatchTheManifest() throws Exception {
        Path tampered = tmp.resolve("tampered");
        TestModels.writeDirectory(tampered, "cli", "v1", weights);
        byte[] bytes = weights.clone();
        bytes[bytes.length - 1] ^= 1;
        Files.write(tampered.resolve(CheckpointManifest.WEIGHTS_FILE), bytes);
        LaunchResult result = launch("classify", circle.toString(), "--model", tampered.toString());
        assertNotEquals(0, result.exitCode());
        assertTrue(result.getErrorOutput().contains("sha256"), result.getErrorOutput());
        assertEquals(List.of(), jsonLines(result));
    }

    @Test
    void safetensorsWithoutLabelsIsAUsageError() {
        LaunchResult result = launch("classify", circle.toString(), "--model", safetensors.toString());
        assertEquals(2, result.exitCode());
        assertTrue(result.getErrorOutput().contains("--labels"), result.getErrorOutput());
    }

    // Usage errors of the command line as ./petal launches it: the Quarkus main runs this same @TopCommand through
    // picocli, so they are checked here rather than in a QuarkusMainTest of their own (one application start less).
    @Test
    void classifyNeedsAModel() {
        LaunchResult result = launch("classify", "some.png");
        assertEquals(2, result.exitCode(), result.getErrorOutput());
        assertTrue(result.getErrorOutput().contains("--model"), result.getErrorOutput());
    }

    @Test
    void unknownFlagIsAUsageError() {
        LaunchResult result = launch("predictions", "--no-such-flag");
        assertEquals(2, result.exitCode(), result.getErrorOutput());
        assertTrue(result.getErrorOutput().contains("Unknown option"), result.getErrorOutput());
    }

    @Test
    void aPthModelGoesToTheWeightsReaderWhichSaysWhatIsWrongInOneLine() throws Exception {
        Path notAZip = Files.writeString(tmp.resolve("notes.pth"), "not a torch.save archive");
        LaunchResult result = launch("classify", circle.toString(), "--model", notAZip.toString(),
                "--labels", String.join(",", TestModels.SPEC.labels()));
        assertEquals(1, result.exitCode(), result.getErrorOutput());
        assertTrue(result.getErrorOutput().contains("petal classify: cannot use the model " + notAZip
                + ": notes.pth is not a torch.save archive (no zip header)"), result.getErrorOutput());
        assertEquals(List.of(), jsonLines(result));
    }

    /** Prediction lines only: the embedded servers of the test JVM may log to the same stdout. */
    private static List<String> jsonLines(LaunchResult result) {
        return result.out().stream().filter(l -> l.startsWith("{")).toList();
    }

    private static JsonNode json(LaunchResult result) throws Exception {
        List<String> lines = jsonLines(result);
        assertEquals(1, lines.size(), result.getOutput() + result.getErrorOutput());
        return JSON.readTree(lines.get(0));
    }
}
