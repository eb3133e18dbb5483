package dev.petal.ingest;

import static dev.petal.ingest.TopicReader.header;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.testing.TestImages;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.records.Headers;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the real embedded broker and S3 server of local-stack, through the service's own wiring ({@link Ingestion}). */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class DatasetIngestTest {
    private static final LocalStack STACK = LocalStack.shared();
    private static long seeds = System.nanoTime();

    @TempDir
    Path dir;

    @Inject
    Ingestion ingestion;

    private IngestSettings settings() {
        return ingestion.settings();
    }

    private DatasetReport ingest(IngestSettings settings, Path root, String dataset) {
        return ingestion.dataset(settings).run(new DatasetIngest.Options(root, dataset, 0.2, 100));
    }

    /** Writes {@code count} fresh JPEGs into {@code root/label/} and returns their sha256s. */
    private static Set<String> images(Path root, String label, int count) {
        Set<String> hashes = new java.util.HashSet<>();
        for (int i = 0; i < count; i++) {
            byte[] jpeg = TestImages.noiseJpeg(32, seeds++);
            TestImages.write(root.resolve(label).resolve("img-" + seeds + ".jpg"), jpeg);
            hashes.add(Sha256.hex(jpeg));
        }
        return hashes;
    }

    private static List<ConsumerRecord<String, byte[]>> published(Set<String> keys) {
        return TopicReader.withKeys(TopicReader.readAll(STACK.bootstrapServers(), Topics.TRAIN), keys);
    }

    @Test
    void publishesEveryImageOnceLabelledAndSplitByContent() {
        Path root = dir.resolve("shapes");
        Set<String> daisies = images(root, "daisy", 12);
        Set<String> roses = images(root, "rose", 8);
        TestImages.write(root.resolve("LICENSE.txt"), "not an image of any class");

        DatasetReport first = ingest(settings(), root, null);

        assertEquals(20, first.summary().published());
        assertEquals(0, first.summary().rejected());
        assertEquals(0, first.summary().exitCode());
        assertEquals(List.of(root.resolve("LICENSE.txt")), first.ignored());
        Set<String> all = new java.util.HashSet<>(daisies);
        all.addAll(roses);
        List<ConsumerRecord<String, byte[]>> records = published(all);
        assertEquals(20, records.size(), "one record per image");
        SplitAssigner splits = new SplitAssigner(100, 0.2);
        for (ConsumerRecord<String, byte[]> r : records) {
            assertEquals(r.key(), Sha256.hex(r.value()), "key is the sha256 of the value");
            assertEquals(daisies.contains(r.key()) ? "daisy" : "rose", header(r, Headers.LABEL));
            assertEquals(splits.splitOf(r.key()), header(r, Headers.SPLIT));
            assertEquals("shapes", header(r, Headers.DATASET));
            assertEquals("image/jpeg", header(r, Headers.CONTENT_TYPE));
            assertEquals("rgb", header(r, Headers.COLOR_MODEL));
            assertTrue(header(r, Headers.SOURCE).matches("(daisy|rose)/img-\\d+\\.jpg"), header(r, Headers.SOURCE));
        }
        Map<String, Integer> daisyCounts = first.splits().get("daisy");
        assertEquals(12, daisyCounts.values().stream().mapToInt(Integer::intValue).sum());

        // Re-ingesting publishes nothing new and reports the same split counts.
        DatasetReport again = ingest(settings(), root, null);
        assertEquals(0, again.summary().published());
        assertEquals(20, again.summary().duplicates());
        assertEquals(first.splits(), again.splits());
        assertEquals(20, published(all).size());

        // The same photos under another dataset name are that dataset's records: training on it finds them.
        DatasetReport renamed = ingest(settings(), root, "shapes-again");
        assertEquals(20, renamed.summary().published());
        List<ConsumerRecord<String, byte[]>> both = published(all);
        assertEquals(40, both.size());
        assertEquals(20, both.stream().filter(r -> "shapes-again".equals(header(r, Headers.DATASET))).count());
    }

    @Test
    void splitDependsOnContentAndSeedOnlyAndSurvivesAddedFiles() {
        Path root = dir.resolve("grow");
        Set<String> before = images(root, "tulip", 15);
        ingest(settings(), root, "grow");
        Map<String, String> splitBefore = published(before).stream()
                .collect(Collectors.toMap(ConsumerRecord::key, r -> header(r, Headers.SPLIT)));

        Set<String> added = images(root, "tulip", 10);
        DatasetReport report = ingest(settings(), root, "grow");
        assertEquals(10, report.summary().published());
        assertEquals(15, report.summary().duplicates());
        // Old images keep their split (nothing is republished) and the report counts them where they were.
        SplitAssigner splits = new SplitAssigner(100, 0.2);
        splitBefore.forEach((sha, split) -> assertEquals(splits.splitOf(sha), split));
        Map<String, Integer> expected = new HashMap<>();
        before.forEach(sha -> expected.merge(splits.splitOf(sha), 1, Integer::sum));
        added.forEach(sha -> expected.merge(splits.splitOf(sha), 1, Integer::sum));
        assertEquals(expected, report.splits().get("tulip"));
    }

    @Test
    void sameBytesUnderTwoLabelsAreReportedAndNeitherPublished() {
        Path root = dir.resolve("conflicts");
        byte[] shared = TestImages.noiseJpeg(32, seeds++);
        TestImages.write(root.resolve("daisy/a.jpg"), shared);
        TestImages.write(root.resolve("rose/b.jpg"), shared);
        byte[] twice = TestImages.noiseJpeg(32, seeds++);
        TestImages.write(root.resolve("daisy/c.jpg"), twice);
        TestImages.write(root.resolve("daisy/c-copy.jpg"), twice); // sorts first: the one published

        DatasetReport report = ingest(settings(), root, "conflicts");

        assertEquals(1, report.conflicts().size());
        assertEquals(Map.of("daisy/a.jpg", "daisy", "rose/b.jpg", "rose"), report.conflicts().get(0).sources());
        assertEquals(1, report.summary().published(), "the same bytes twice under one label are published once");
        assertEquals(1, report.summary().duplicates());
        assertEquals(2, report.summary().rejected());
        assertEquals(3, report.summary().exitCode());
        assertEquals(List.of(), published(Set.of(Sha256.hex(shared))));

        // A later folder that labels an already published image differently is a conflict too.
        Path later = dir.resolve("later");
        TestImages.write(later.resolve("tulip/c.jpg"), twice);
        DatasetReport second = ingest(settings(), later, "conflicts");
        assertEquals(0, second.summary().published());
        assertEquals(Map.of("petal.train:daisy/c-copy.jpg", "daisy", "tulip/c.jpg", "tulip"), second.conflicts().get(0).sources());
    }

    @Test
    void badFilesAreRejectedWithTheirReasonAndOddColourModelsAccepted() {
        Path root = dir.resolve("bad");
        Set<String> good = images(root, "daisy", 2);
        TestImages.write(root.resolve("daisy/truncated.jpg"), TestImages.truncatedJpeg(seeds++));
        TestImages.write(root.resolve("daisy/empty.jpg"), new byte[0]);
        TestImages.write(root.resolve("daisy/notes.jpg"), "these are my notes, not a photo\n");
        TestImages.write(root.resolve("daisy/bomb.png"), TestImages.pngBomb());
        int cmykSize = 40 + (int) (seeds++ % 20);
        byte[] cmyk = TestImages.cmykJpeg(cmykSize, cmykSize, 0, 55, 200, 25);
        byte[] gray16 = TestImages.png16(24 + (int) (seeds++ % 20));
        TestImages.write(root.resolve("rose/cmyk.jpg"), cmyk);
        TestImages.write(root.resolve("rose/gray16.png"), gray16);

        long start = System.nanoTime();
        DatasetReport report = ingest(settings(), root, "bad");
        assertTrue(System.nanoTime() - start < 20e9, "the bomb is refused from its header, not decoded");

        Map<String, String> rejected = report.rejections().stream()
                .collect(Collectors.toMap(DatasetReport.Rejected::source, r -> r.rejection().errorClass()));
        assertEquals(Map.of("daisy/truncated.jpg", "truncated", "daisy/empty.jpg", "empty",
                "daisy/notes.jpg", "not-an-image", "daisy/bomb.png", "too-many-pixels"), rejected);
        report.rejections().forEach(r -> assertTrue(r.rejection().reason().length() > 5, r.toString()));
        assertEquals(4, report.summary().published());
        assertEquals(3, report.summary().exitCode());

        Map<String, ConsumerRecord<String, byte[]>> bySha = published(Set.of(Sha256.hex(cmyk), Sha256.hex(gray16)))
                .stream().collect(Collectors.toMap(ConsumerRecord::key, r -> r));
        assertEquals("cmyk", header(bySha.get(Sha256.hex(cmyk)), Headers.COLOR_MODEL));
        assertEquals("gray-16bit", header(bySha.get(Sha256.hex(gray16)), Headers.COLOR_MODEL));
        assertEquals("image/png", header(bySha.get(Sha256.hex(gray16)), Headers.CONTENT_TYPE));
        assertEquals(2, published(good).size());
    }

    @Test
    void imagesAboveTheInlineLimitTravelByClaimCheck() {
        Path root = dir.resolve("big");
        byte[] big = TestImages.noiseJpeg(64, seeds++);
        byte[] small = TestImages.encode(new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB), "png");
        TestImages.write(root.resolve("sunflower/big.jpg"), big);
        TestImages.write(root.resolve("sunflower/small-" + seeds++ + ".png"), small);
        assertTrue(big.length > 2000 && small.length < 2000);

        DatasetReport report = ingest(settings().withInlineMaxBytes(2000), root, "big");
        assertEquals(0, report.summary().exitCode());

        String sha = Sha256.hex(big);
        ConsumerRecord<String, byte[]> record = published(Set.of(sha)).get(0);
        assertEquals(0, record.value().length, "claim-checked records carry no bytes");
        String ref = header(record, Headers.IMAGE_REF);
        assertEquals("s3://petal/images/" + sha, ref);
        try (ObjectStore store = STACK.objectStore()) {
            assertArrayEquals(big, store.get("images/" + sha));
        }
        ConsumerRecord<String, byte[]> inline = published(Set.of(Sha256.hex(small))).get(0);
        assertArrayEquals(small, inline.value());
        assertNull(header(inline, Headers.IMAGE_REF));
    }

    @Test
    void anUnreachableBrokerFailsFastWithAClearMessage() {
        Path root = dir.resolve("nobroker");
        images(root, "daisy", 1);
        IngestSettings quick = settings().withBrokerTimeout(java.time.Duration.ofSeconds(3));
        KafkaClients nowhere = KafkaClients.of(Map.of("bootstrap.servers", "127.0.0.1:" + freePort()));
        long start = System.nanoTime();
        IngestFailedException e = org.junit.jupiter.api.Assertions.assertThrows(IngestFailedException.class,
                () -> new DatasetIngest(quick, nowhere, ingestion.imageCheck(), () -> ingestion.publisher(quick))
                        .run(new DatasetIngest.Options(root, "x", 0.2, 100)));
        assertTrue(System.nanoTime() - start < 15e9, "fails within seconds, not forever");
        assertTrue(e.getMessage().contains("did not answer within 3 s"), e.getMessage());
        assertNotNull(e.getMessage());
    }

    static int freePort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
