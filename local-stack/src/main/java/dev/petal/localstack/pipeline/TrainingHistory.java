package dev.petal.localstack.pipeline;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.report.StepCurve;
import dev.petal.common.storage.NoSuchObjectException;
import dev.petal.common.storage.ObjectStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The training history the trainer stores beside a version: its epochs' metrics ({@code metrics.json},
 * the whole run up to that version) and its per-step loss and learning rate ({@code steps.json}).
 */
final class TrainingHistory {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The names the trainer's TrainingJob gives these files. */
    private static final String EPOCHS_FILE = "metrics.json";
    private static final String STEPS_FILE = "steps.json";

    /** Per-epoch metrics, oldest first, and the per-step curve; either is empty when its file is absent. */
    record Run(List<Map<String, Object>> epochs, StepCurve steps) {}

    private TrainingHistory() {}

    static Optional<String> latest(ObjectStore store, String model) {
        try {
            return Optional.of(new String(store.get("models/" + model + "/latest"), StandardCharsets.UTF_8).trim());
        } catch (NoSuchObjectException e) {
            return Optional.empty();
        }
    }

    static Run read(ObjectStore store, String model, String version) throws IOException {
        String prefix = "models/" + model + "/" + version + "/";
        List<Map<String, Object>> epochs = List.of();
        StepCurve steps = new StepCurve();
        try {
            epochs = JSON.readValue(store.get(prefix + EPOCHS_FILE), new TypeReference<List<Map<String, Object>>>() {});
        } catch (NoSuchObjectException e) {
            // a version from before the trainer kept its history: no curves
        }
        try {
            steps = StepCurve.fromJson(store.get(prefix + STEPS_FILE));
        } catch (NoSuchObjectException e) {
            // a version from before the trainer kept per-step values
        }
        return new Run(epochs, steps);
    }
}
