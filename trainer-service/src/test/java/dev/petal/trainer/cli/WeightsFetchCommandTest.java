package dev.petal.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./petal weights fetch} as picocli runs it, against a local server standing in for download.pytorch.org. */
class WeightsFetchCommandTest {
    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new WeightsCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void bytesThatDoNotMatchTheHashInTorchvisionsFileNameAreRefused() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] impostor = "these are not resnet18's weights".getBytes(StandardCharsets.UTF_8);
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        server.createContext("/models/", exchange -> {
            asked.add(exchange.getRequestURI().getPath());
            exchange.sendResponseHeaders(200, impostor.length);
            try (OutputStream body = exchange.getResponseBody()) {
                body.write(impostor);
            }
        });
        server.start();
        try {
            Run run = run("fetch", "resnet18", "--to", dir.toString(),
                    "--base-url", "http://127.0.0.1:" + server.getAddress().getPort() + "/models/");
            assertEquals(1, run.exitCode(), run.err());
            assertEquals(List.of("/models/resnet18-f37072fd.pth"), asked, "torchvision's published file name");
            assertTrue(run.err().contains("but its name promises f37072fd...: refusing it (corrupt or tampered with);"
                    + " nothing was written"), run.err());
            assertEquals("", run.out());
            assertFalse(run.err().contains("\tat "), "no stack trace");
            try (var listing = Files.list(dir)) {
                assertEquals(List.of(), listing.toList());
            }
        } finally {
            server.stop(0);
        }
    }

    @Test
    void offlineItSaysSoInOneLineAndExitsOne() throws IOException {
        int port;
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = taken.getLocalPort(); // closed again at once: nothing listens there
        }
        Run run = run("fetch", "resnet50", "--to", dir.toString(), "--base-url", "http://127.0.0.1:" + port + "/models");
        assertEquals(1, run.exitCode());
        List<String> lines = run.err().lines().toList();
        assertEquals("petal weights: cannot download http://127.0.0.1:" + port + "/models/resnet50-0676ba61.pth:"
                + " connection refused or unreachable; this command needs internet access to 127.0.0.1; copy"
                + " resnet50-0676ba61.pth into " + dir + " instead", lines.get(lines.size() - 1));
        assertFalse(run.err().contains("\tat "), "no stack trace");
    }

    @Test
    void anUnknownArchitectureIsAUsageError() {
        Run run = run("fetch", "resnet19");
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("unknown architecture 'resnet19'"), run.err());
    }
}
