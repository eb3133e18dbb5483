package dev.petal.common.inference;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * One prediction, as DESIGN.md's "Prediction JSON": the best label and score, the top-k, the model
 * that made it, where the input came from and how long it took.
 *
 * @param source where the input came from: a Kafka record, or a file for {@code classify}
 * @param latencyMs milliseconds from the input's Kafka record timestamp to the prediction (null off Kafka)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"id", "label", "score", "top", "model", "source", "latencyMs"})
public record Prediction(String id, String label, double score, List<Scored> top, ModelId model, Source source,
                         Double latencyMs) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A label and its softmax probability. */
    public record Scored(String label, double score) {}

    /** A Kafka record (topic, partition, offset) or a local file. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Source(String topic, Integer partition, Long offset, String file) {
        public static Source record(String topic, int partition, long offset) {
            return new Source(topic, partition, offset, null);
        }

        public static Source file(String path) {
            return new Source(null, null, null, path);
        }
    }

    public Prediction {
        if (top == null || top.isEmpty()) {
            throw new IllegalArgumentException("a prediction needs at least one scored label");
        }
        top = List.copyOf(top);
    }

    public static Prediction of(String id, List<Scored> top, ModelId model, Source source, Double latencyMs) {
        return new Prediction(id, top.get(0).label(), top.get(0).score(), top, model, source,
                latencyMs == null ? null : Math.round(latencyMs * 10) / 10.0);
    }

    public Prediction withLatency(double ms) {
        return of(id, top, model, source, ms);
    }

    public Prediction withId(String newId) {
        return new Prediction(newId, label, score, top, model, source, latencyMs);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Prediction fromJson(String json) {
        try {
            return JSON.readValue(json, Prediction.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("not a prediction: " + e.getMessage(), e);
        }
    }
}
