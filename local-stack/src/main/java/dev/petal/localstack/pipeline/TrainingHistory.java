package dev.petal.localstack.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.storage.NoSuchObjectException;
import dev.petal.common.storage.ObjectStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The metrics of a model's versions, oldest first, found by following each manifest's
 * parentVersion from {@code latest}: one point per published checkpoint.
 */
final class TrainingHistory {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One published version and its numeric metrics. */
    record Point(String version, int epoch, long step, Map<String, Double> metrics) {}

    private TrainingHistory() {}

    static Optional<String> latest(ObjectStore store, String model) {
        try {
            return Optional.of(new String(store.get("models/" + model + "/latest"), StandardCharsets.UTF_8).trim());
        } catch (NoSuchObjectException e) {
            return Optional.empty();
        }
    }

    static List<Point> read(ObjectStore store, String model, String version, int maxPoints) throws IOException {
        List<Point> points = new ArrayList<>();
        String current = version;
        while (current != null && !current.isBlank() && points.size() < maxPoints) {
            JsonNode manifest;
            try {
                manifest = JSON.readTree(store.get("models/" + model + "/" + current + "/manifest.json"));
            } catch (NoSuchObjectException e) {
                break;
            }
            Map<String, Double> metrics = new LinkedHashMap<>();
            manifest.path("metrics").fields().forEachRemaining(e -> {
                if (e.getValue().isNumber()) {
                    metrics.put(e.getKey(), e.getValue().asDouble());
                }
            });
            points.add(new Point(current, manifest.path("epoch").asInt(), manifest.path("step").asLong(), metrics));
            current = manifest.path("parentVersion").isTextual() ? manifest.path("parentVersion").asText() : null;
        }
        Collections.reverse(points);
        return points;
    }
}
