package dev.petal.ingest;

import static dev.petal.ingest.TopicReader.header;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.petal.testing.TestImages;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class ImagesIngestTest {
    private static final LocalStack STACK = LocalStack.shared();

    @Inject
    Ingestion ingestion;

    @TempDir
    Path dir;

    @Test
    void goodImagesGoToImagesAndBadOnesToTheDlqUntouched() {
        String run = "run-" + System.nanoTime();
        Path folder = dir.resolve(run);
        byte[] a = TestImages.noiseJpeg(32, System.nanoTime());
        byte[] b = TestImages.png16(20);
        byte[] truncated = TestImages.truncatedJpeg(System.nanoTime());
        TestImages.write(folder.resolve("a.jpg"), a);
        TestImages.write(folder.resolve("sub/b.png"), b);
        TestImages.write(folder.resolve("broken.jpg"), truncated);
        Path single = TestImages.write(dir.resolve("single.jpg"), a);

        List<ImagesIngest.Input> inputs = ImagesIngest.expand(List.of(folder), null);
        assertEquals(List.of("a.jpg", "broken.jpg", "sub/b.png"), inputs.stream().map(ImagesIngest.Input::key).toList());
        ImagesIngest ingest = ingestion.images(ingestion.settings());
        ImagesIngest.Report report = ingest.run(inputs);
        ImagesIngest.Report byId = ingest.run(ImagesIngest.expand(List.of(single), run + "-id"));

        assertEquals(2, report.summary().published());
        assertEquals(1, report.summary().rejected());
        assertEquals(3, report.summary().exitCode());
        assertEquals(0, byId.summary().exitCode());

        Map<String, ConsumerRecord<String, byte[]>> images = TopicReader.readAll(STACK.bootstrapServers(), Topics.IMAGES).stream()
                .filter(r -> r.key() != null && Set.of("a.jpg", "sub/b.png", run + "-id").contains(r.key())
                        && header(r, Headers.SOURCE).contains(dir.toString()))
                .collect(Collectors.toMap(ConsumerRecord::key, r -> r, (x, y) -> y));
        assertArrayEquals(a, images.get("a.jpg").value());
        assertArrayEquals(b, images.get("sub/b.png").value());
        assertArrayEquals(a, images.get(run + "-id").value());
        assertEquals("image/png", header(images.get("sub/b.png"), Headers.CONTENT_TYPE));

        List<ConsumerRecord<String, byte[]>> dead = TopicReader.readAll(STACK.bootstrapServers(), Topics.DLQ).stream()
                .filter(r -> folder.resolve("broken.jpg").toString().equals(header(r, Headers.SOURCE))).toList();
        assertEquals(1, dead.size());
        assertEquals("broken.jpg", dead.get(0).key());
        assertArrayEquals(truncated, dead.get(0).value(), "the dlq keeps the input untouched");
        assertEquals("truncated", header(dead.get(0), Headers.ERROR_CLASS));
        assertEquals(report.rejections().get(0).rejection().reason(), header(dead.get(0), Headers.ERROR_REASON));
    }

    @Test
    void anIdNeedsExactlyOneFile() {
        Path one = TestImages.write(dir.resolve("one.jpg"), TestImages.noiseJpeg(16, 1));
        Path two = TestImages.write(dir.resolve("two.jpg"), TestImages.noiseJpeg(16, 2));
        assertThrows(IllegalArgumentException.class, () -> ImagesIngest.expand(List.of(one, two), "x"));
        assertThrows(IllegalArgumentException.class, () -> ImagesIngest.expand(List.of(dir.resolve("missing.jpg")), null));
    }
}
