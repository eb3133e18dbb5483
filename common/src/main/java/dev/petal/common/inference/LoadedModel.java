package dev.petal.common.inference;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.model.ModelSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model's verified weights file (safetensors) and description, before it is built on a
 * device. The weights stay in a file, not on the heap: a model loads by streaming them into native
 * memory, so a reload does not grow the JVM's heap by the checkpoint's size (which it would keep).
 *
 * @param manifest  the checkpoint manifest, or {@code null} for a bare weights file
 * @param temporary whether the file was written for this model (a download, a conversion): {@link #close} deletes it
 */
public record LoadedModel(ModelId id, ModelSpec spec, Path weights, CheckpointManifest manifest, boolean temporary)
        implements AutoCloseable {

    /** A fresh temporary file for a model's weights, deleted by {@link #close}. */
    public static Path temporaryWeightsFile() {
        try {
            return Files.createTempFile("petal-weights-", ".safetensors");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary file for model weights in "
                    + System.getProperty("java.io.tmpdir") + ": " + e.getMessage(), e);
        }
    }

    public InputStream openWeights() throws IOException {
        return Files.newInputStream(weights);
    }

    @Override
    public void close() {
        if (temporary) {
            try {
                Files.deleteIfExists(weights);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete " + weights, e);
            }
        }
    }
}
