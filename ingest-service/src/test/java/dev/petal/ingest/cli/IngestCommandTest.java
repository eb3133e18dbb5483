package dev.petal.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.localstack.LocalStackTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line end to end: the packaged commands against the embedded broker and S3. */
@QuarkusMainTest
@WithTestResource(LocalStackTestResource.class)
class IngestCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static byte[] jpeg(long seed) throws Exception {
        Random random = new Random(seed);
        BufferedImage image = new BufferedImage(24, 24, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 24 * 24; i++) {
            image.setRGB(i % 24, i / 24, random.nextInt(0x1000000));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "jpeg", out);
        return out.toByteArray();
    }

    private static List<JsonNode> lines(LaunchResult result) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : result.getOutput().split("\n")) {
            if (line.startsWith("{")) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    @Test
    void datasetPublishesReportsSplitsAndExitsThreeOnARejectedFile(QuarkusMainLauncher launcher) throws Exception {
        long seed = System.nanoTime();
        for (int i = 0; i < 4; i++) {
            Files.createDirectories(dir.resolve("daisy"));
            Files.createDirectories(dir.resolve("rose"));
            Files.write(dir.resolve("daisy/" + i + ".jpg"), jpeg(seed + i));
            Files.write(dir.resolve("rose/" + i + ".jpg"), jpeg(seed + 10 + i));
        }
        Files.writeString(dir.resolve("rose/readme.jpg"), "not a picture");

        LaunchResult result = launcher.launch("dataset", dir.toString(), "--dataset", "cli-test", "--seed", "7");

        assertEquals(3, result.exitCode(), result.getErrorOutput());
        List<JsonNode> lines = lines(result);
        JsonNode rejected = lines.stream().filter(l -> l.get("event").asText().equals("rejected")).findFirst().orElseThrow();
        assertEquals("rose/readme.jpg", rejected.get("source").asText());
        assertEquals("not-an-image", rejected.get("errorClass").asText());
        JsonNode splits = lines.stream().filter(l -> l.get("event").asText().equals("splits")).findFirst().orElseThrow();
        JsonNode daisy = splits.get("classes").get("daisy");
        assertEquals(4, daisy.get("train").asInt() + daisy.get("valid").asInt());
        JsonNode summary = lines.get(lines.size() - 1);
        assertEquals("summary", summary.get("event").asText());
        assertEquals(8, summary.get("published").asInt());
        assertEquals(1, summary.get("rejected").asInt());

        Files.delete(dir.resolve("rose/readme.jpg"));
        LaunchResult again = launcher.launch("dataset", dir.toString(), "--dataset", "cli-test", "--seed", "7");
        assertEquals(0, again.exitCode(), again.getErrorOutput());
        JsonNode second = lines(again).get(lines(again).size() - 1);
        assertEquals(0, second.get("published").asInt());
        assertEquals(8, second.get("duplicates").asInt());
    }

    @Test
    void imagesWithAnIdForSeveralFilesIsAUsageError(QuarkusMainLauncher launcher) throws Exception {
        Path a = Files.write(dir.resolve("a.jpg"), jpeg(1));
        Path b = Files.write(dir.resolve("b.jpg"), jpeg(2));
        LaunchResult result = launcher.launch("images", a.toString(), b.toString(), "--id", "x");
        assertEquals(2, result.exitCode());
        assertTrue(result.getErrorOutput().contains("--id needs exactly one file argument"), result.getErrorOutput());
        LaunchResult ok = launcher.launch("images", a.toString(), "--id", "cli-" + System.nanoTime());
        assertEquals(0, ok.exitCode(), ok.getErrorOutput());
    }

    @Test
    void downloadFailsFastAndClearlyWhenOffline(QuarkusMainLauncher launcher) {
        long start = System.nanoTime();
        LaunchResult result = launcher.launch("download", "flowers", "--to", dir.toString(),
                "--url", "http://127.0.0.1:9/flower_photos.tgz");
        assertEquals(1, result.exitCode());
        // Fast against a download that retries or waits out a timeout (minutes); generous for a busy machine.
        assertTrue(System.nanoTime() - start < 60e9, "took " + (System.nanoTime() - start) / 1e9 + " s");
        assertTrue(result.getErrorOutput().contains("petal ingest: cannot download http://127.0.0.1:9/flower_photos.tgz: cannot connect"),
                result.getErrorOutput());
    }

    @Test
    void unknownDatasetIsAUsageError(QuarkusMainLauncher launcher) {
        LaunchResult result = launcher.launch("download", "cats");
        assertEquals(2, result.exitCode());
        assertTrue(result.getErrorOutput().contains("flowers"), result.getErrorOutput());
    }
}
