package dev.petal.trainer.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.petal.common.checkpoint.Sha256;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads from the JDK's HTTP server, each file named for the sha256 prefix it does or does not have. */
class WeightsDownloaderTest {
    static final byte[] BODY = "not really weights, but hashed all the same".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;
    HttpServer server;
    final Map<String, byte[]> files = new ConcurrentHashMap<>();

    @BeforeEach
    void serve() throws IOException {
        server = serve(files);
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** Serves {@code files} under {@code /models/<name>}; anything else is a 404. */
    static HttpServer serve(Map<String, byte[]> files) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/models/", exchange -> {
            byte[] body = files.get(exchange.getRequestURI().getPath().substring("/models/".length()));
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                if (body != null) {
                    out.write(body);
                }
            }
        });
        server.start();
        return server;
    }

    static String base(HttpServer server) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/models/";
    }

    private Path fetch(String name, WeightsDownloader.Progress progress) throws WeightsDownloader.DownloadException {
        return new WeightsDownloader(Duration.ofSeconds(5), Duration.ofSeconds(20))
                .fetch(URI.create(base(server) + name), dir, name, progress);
    }

    @Test
    void aFileWhoseHashMatchesItsNameIsWrittenWhole() throws Exception {
        String name = "tiny-" + Sha256.hex(BODY).substring(0, 8) + ".pth";
        files.put(name, BODY);
        List<long[]> updates = new ArrayList<>();
        Path written = fetch(name, (received, total) -> updates.add(new long[] {received, total}));
        assertEquals(dir.resolve(name), written);
        assertArrayEquals(BODY, Files.readAllBytes(written));
        assertArrayEquals(new long[] {BODY.length, BODY.length}, updates.get(updates.size() - 1), "progress ends at the total");
        assertTrue(WeightsDownloader.isVerified(written));
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(written), listing.toList(), "no temporary file left behind");
        }
    }

    @Test
    void aFileWhoseHashDiffersFromItsNameIsRefusedAndNothingIsWritten() throws Exception {
        String name = "tiny-00000000.pth";
        files.put(name, BODY);
        WeightsDownloader.DownloadException e = assertThrows(WeightsDownloader.DownloadException.class,
                () -> fetch(name, (r, t) -> {}));
        assertFalse(e.network());
        assertTrue(e.getMessage().contains("has sha256 " + Sha256.hex(BODY) + ", but its name promises 00000000"), e.getMessage());
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(), listing.toList());
        }
    }

    @Test
    void aMissingFileOrServerIsANetworkError() throws Exception {
        WeightsDownloader.DownloadException notFound = assertThrows(WeightsDownloader.DownloadException.class,
                () -> fetch("absent-12345678.pth", (r, t) -> {}));
        assertTrue(notFound.network());
        assertEquals("HTTP 404", notFound.getMessage());
        server.stop(0);
        WeightsDownloader.DownloadException refused = assertThrows(WeightsDownloader.DownloadException.class,
                () -> fetch("absent-12345678.pth", (r, t) -> {}));
        assertTrue(refused.network());
        assertEquals("connection refused or unreachable", refused.getMessage());
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(), listing.toList());
        }
    }
}
