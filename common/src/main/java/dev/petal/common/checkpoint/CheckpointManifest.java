package dev.petal.common.checkpoint;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.model.ActivationRanges;
import dev.petal.common.model.ModelSpec;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * {@code models/<name>/<version>/manifest.json}: what a checkpoint is, how it was made, and the
 * sha256 of every file in it. Written last, so a version without a manifest does not exist.
 *
 * @param files file name (relative to the version folder) to its size and sha256
 * @param dataset the topic and per-partition offset ranges the model trained on
 * @param signature optional HMAC/Ed25519 signature over the manifest without this field
 * @param activationRanges the int8 calibration, measured on the held-out split: absent where the version was not
 *     validated (a mid-epoch checkpoint, an epoch before validation starts)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record CheckpointManifest(
        int formatVersion,
        String name,
        String version,
        String parentVersion,
        String createdAt,
        ModelSpec model,
        Map<String, Object> recipe,
        int epoch,
        long step,
        Map<String, Object> metrics,
        DatasetRange dataset,
        Map<String, FileEntry> files,
        String signature,
        ActivationRanges activationRanges) {

    /** 2: weights as safetensors under torchvision's names, and the model spec typed (1: DJL's parameter format). */
    public static final int FORMAT_VERSION = 2;
    public static final String MANIFEST_FILE = "manifest.json";
    public static final String WEIGHTS_FILE = "weights.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A manifest without an int8 calibration. */
    public CheckpointManifest(int formatVersion, String name, String version, String parentVersion, String createdAt, ModelSpec model,
            Map<String, Object> recipe, int epoch, long step, Map<String, Object> metrics, DatasetRange dataset,
            Map<String, FileEntry> files, String signature) {
        this(formatVersion, name, version, parentVersion, createdAt, model, recipe, epoch, step, metrics, dataset, files, signature, null);
    }

    /**
     * Parses a manifest read from {@code where}; a manifest of another format, or one that does not parse,
     * is a {@link CheckpointIntegrityException} that says what to do.
     */
    public static CheckpointManifest parse(byte[] json, String where) {
        try {
            JsonNode tree = JSON.readTree(json);
            int format = tree.path("formatVersion").asInt(-1);
            if (format != FORMAT_VERSION) {
                throw new CheckpointIntegrityException(where + " is a checkpoint of format " + format + "; this Petal reads format "
                        + FORMAT_VERSION + " (weights as safetensors): retrain the model with ./petal train");
            }
            return JSON.treeToValue(tree, CheckpointManifest.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointIntegrityException(where + " is unreadable: " + e.getMessage(), e);
        }
    }

    /** One stored file. */
    public record FileEntry(long bytes, String sha256) {
        /** A {@link CheckpointIntegrityException} (sha256) unless {@code where} holds this entry's size and hash. */
        public void verify(String where, long actualBytes, String actualSha256) {
            if (actualBytes != bytes || !actualSha256.equals(sha256)) {
                throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHA256, where + " has sha256 "
                        + actualSha256 + " (" + actualBytes + " bytes) but the manifest says " + sha256 + " (" + bytes + " bytes)");
            }
        }
    }

    /** The slice of a topic a model saw: partition to [first offset, last offset + 1). */
    public record DatasetRange(String topic, Map<Integer, List<Long>> offsets) {}

    /** The entry of {@link #WEIGHTS_FILE}, or {@code null} when the manifest lists none. */
    public FileEntry weightsEntry() {
        return files == null ? null : files.get(WEIGHTS_FILE);
    }

    /** The entry of {@link #WEIGHTS_FILE}; a {@link CheckpointIntegrityException} naming {@code where} if none. */
    public FileEntry requireWeightsEntry(String where) {
        FileEntry entry = weightsEntry();
        if (entry == null) {
            throw new CheckpointIntegrityException(where + " lists no " + WEIGHTS_FILE);
        }
        return entry;
    }

    public CheckpointManifest withFiles(Map<String, FileEntry> newFiles) {
        return new CheckpointManifest(formatVersion, name, version, parentVersion, createdAt, model, recipe,
                epoch, step, metrics, dataset, Map.copyOf(newFiles), signature, activationRanges);
    }

    public CheckpointManifest withSignature(String newSignature) {
        return new CheckpointManifest(formatVersion, name, version, parentVersion, createdAt, model, recipe,
                epoch, step, metrics, dataset, files, newSignature, activationRanges);
    }
}
