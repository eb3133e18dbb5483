package dev.petal.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A trainer that answers the model lifecycle's HTTP contract (issue #25) with fixed bodies and records what it was
 * sent; every other path is a bare 404, as a trainer without that endpoint answers.
 */
public class FakeTrainer implements QuarkusTestResourceLifecycleManager {
    /** One request: method, path with query, Authorization header, body. */
    record Seen(String method, String path, String authorization, String body) {}

    static final List<Seen> SEEN = new CopyOnWriteArrayList<>();
    private HttpServer server;

    @Override
    public Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.createContext("/", this::answer);
        server.start();
        return Map.of("petal.console.trainer-url", "http://127.0.0.1:" + server.getAddress().getPort());
    }

    private void answer(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String path = exchange.getRequestURI().toString();
        SEEN.add(new Seen(exchange.getRequestMethod(), path, exchange.getRequestHeaders().getFirst("Authorization"), body));
        String method = exchange.getRequestMethod();
        String answer = null;
        if (method.equals("GET") && path.equals("/models/petal")) {
            answer = """
                    {"name": "petal", "aliases": {"champion": "v2", "challenger": "v3"}, "versions": [
                      {"version": "v2", "aliases": ["champion"], "gate": {"candidate": 0.9, "champion": 0.8, "decision": "promoted", "reason": "better"}},
                      {"version": "v3", "aliases": ["challenger"], "gate": {"candidate": 0.85, "champion": 0.9, "decision": "kept-out", "reason": "worse"}}]}""";
        } else if (method.equals("GET") && path.equals("/models/petal/history")) {
            answer = "[{\"alias\": \"champion\", \"from\": \"v1\", \"to\": \"v2\", \"reason\": \"gate\", \"actor\": \"trainer\", \"at\": \"2026-12-02T08:00:00Z\"}]";
        } else if (method.equals("POST") && path.equals("/models/petal/aliases/champion")) {
            answer = "{\"alias\": \"champion\", \"from\": \"v2\", \"to\": \"v3\"}";
        } else if (method.equals("GET") && path.startsWith("/dlq")) {
            answer = "{\"counts\": {}, \"samples\": []}";
        } else if (method.equals("POST") && path.equals("/dlq/replay")) {
            answer = "{\"matched\": 2, \"replayed\": 0}";
        }
        byte[] bytes = answer == null ? new byte[0] : answer.getBytes(StandardCharsets.UTF_8);
        if (answer != null) {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
        }
        exchange.sendResponseHeaders(answer == null ? 404 : 200, bytes.length == 0 ? -1 : bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }
}
