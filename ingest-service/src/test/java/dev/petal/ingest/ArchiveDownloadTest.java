package dev.petal.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.testing.TestImages;
import com.sun.net.httpserver.HttpServer;
import dev.petal.common.checkpoint.Sha256;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The download against a local HTTP server serving a small generated flower_photos.tgz. */
class ArchiveDownloadTest {
    @TempDir
    Path dir;

    private HttpServer server;
    private byte[] archive;
    private final byte[] daisy = TestImages.noiseJpeg(16, 11);

    @BeforeEach
    void serve() throws IOException {
        archive = tgz(Map.of("flower_photos/daisy/1.jpg", daisy, "flower_photos/roses/2.jpg", TestImages.noiseJpeg(16, 12),
                "flower_photos/LICENSE.txt", "CC-BY".getBytes()));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/flower_photos.tgz", exchange -> {
            exchange.sendResponseHeaders(200, archive.length);
            exchange.getResponseBody().write(archive);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/flower_photos.tgz");
    }

    private static ArchiveDownload download() {
        return new ArchiveDownload(Duration.ofSeconds(10), Duration.ofSeconds(5));
    }

    @Test
    void downloadsChecksAndUnpacks() throws IOException {
        ArchiveDownload.Result result = download().fetch(url(), archive.length, Sha256.hex(archive), dir);
        assertEquals(dir.toAbsolutePath().resolve("flower_photos"), result.root());
        assertEquals(3, result.files());
        assertEquals(Sha256.hex(archive), result.sha256());
        assertArrayEquals(daisy, Files.readAllBytes(result.root().resolve("daisy/1.jpg")));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void aWrongChecksumOrSizeUnpacksNothing() throws IOException {
        String wrong = "0".repeat(64);
        var e = assertThrows(ArchiveDownload.DownloadException.class, () -> download().fetch(url(), archive.length, wrong, dir));
        assertTrue(e.getMessage().contains("does not match the expected " + wrong), e.getMessage());
        var sized = assertThrows(ArchiveDownload.DownloadException.class, () -> download().fetch(url(), archive.length + 1, null, dir));
        assertTrue(sized.getMessage().contains("expected " + (archive.length + 1)), sized.getMessage());
        assertFalse(Files.exists(dir.resolve("flower_photos")));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void anUnreachableServerFailsWithinSecondsWithAClearMessage() {
        long start = System.nanoTime();
        URI nowhere = URI.create("http://127.0.0.1:" + DatasetIngestTest.freePort() + "/flower_photos.tgz");
        var e = assertThrows(ArchiveDownload.DownloadException.class, () -> download().fetch(nowhere, -1, null, dir));
        // Refused at once, not after the 10 s connect timeout or retries; generous for a busy machine.
        assertTrue(System.nanoTime() - start < 30e9, "took " + (System.nanoTime() - start) / 1e9 + " s");
        assertTrue(e.getMessage().startsWith("cannot download " + nowhere + ": cannot connect to 127.0.0.1"), e.getMessage());
        var unknown = assertThrows(ArchiveDownload.DownloadException.class,
                () -> download().fetch(URI.create("http://no-such-host.invalid/x.tgz"), -1, null, dir));
        assertTrue(unknown.getMessage().contains("no-such-host.invalid"), unknown.getMessage());
    }

    @Test
    void entriesEscapingTheTargetAreRefused() throws IOException {
        archive = tgz(Map.of("../evil.txt", "x".getBytes()));
        var e = assertThrows(ArchiveDownload.DownloadException.class, () -> download().fetch(url(), -1, null, dir.resolve("t")));
        assertTrue(e.getMessage().contains("points outside"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("evil.txt")));
    }

    private static byte[] tgz(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
            for (var file : new java.util.TreeMap<>(files).entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(file.getKey());
                entry.setSize(file.getValue().length);
                tar.putArchiveEntry(entry);
                tar.write(file.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
