package dev.petal.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The trainer's API, called with the signed-in user's own bearer token, so that the trainer decides what that user may
 * do exactly as it does for the CLI: training runs ({@code /train}) and the model lifecycle ({@code /models},
 * {@code /dlq}, issue #25's contract). An endpoint the trainer does not have yet is told apart from a refusal: it is
 * {@link Answer#unavailable()}, and the pages say "not available on this trainer".
 */
@ApplicationScoped
public class TrainerApi {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final String base;

    public TrainerApi(ConsoleSettings settings) {
        this.base = settings.trainerUrl().replaceAll("/+$", "");
    }

    /**
     * The trainer's answer.
     *
     * @param status HTTP status; 0 when the trainer could not be reached
     * @param body the body as the trainer sent it (JSON), or a JSON error of the console's own
     */
    public record Answer(int status, String body) {
        /** No such endpoint on this trainer: a 404 or 405 without the services' JSON error shape. */
        public boolean unavailable() {
            if (status != 404 && status != 405) {
                return false;
            }
            try {
                JsonNode node = JSON.readTree(body);
                return node == null || !node.isObject() || !node.has("error");
            } catch (IOException e) {
                return true;
            }
        }

        public boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    public Answer get(String path, String token) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET(), token);
    }

    public Answer post(String path, String jsonBody, String token) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(jsonBody == null ? "" : jsonBody)), token);
    }

    public static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private Answer send(HttpRequest.Builder request, String token) {
        request.timeout(Duration.ofSeconds(15));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(), response.body());
        } catch (IOException e) {
            return new Answer(0, "{\"error\": \"the trainer does not answer at " + base + "\", \"status\": 502}");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(0, "{\"error\": \"interrupted\", \"status\": 502}");
        }
    }
}
