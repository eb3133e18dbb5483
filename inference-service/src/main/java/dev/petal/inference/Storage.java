package dev.petal.inference;

import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.ManifestVerifier;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import org.eclipse.microprofile.config.Config;

/**
 * The object store from the {@code petal.s3.*} keys, opened on first use (classify from a folder never
 * needs it), and the checkpoints in it, read with the signature check of {@value #VERIFY_KEY} when set.
 */
@ApplicationScoped
public class Storage {
    /** Verify key for checkpoint manifests; empty: unsigned versions are accepted (their sha256 still checked). */
    public static final String VERIFY_KEY = "petal.checkpoint.verify-key";

    private final Config config;
    private ObjectStore objects;
    private Optional<ManifestVerifier> verifier;

    public Storage(Config config) {
        this.config = config;
    }

    public S3Settings settings() {
        return S3Settings.fromConfig(key -> config.getOptionalValue(key, String.class).orElse(null));
    }

    public synchronized ObjectStore objects() {
        if (objects == null) {
            objects = new ObjectStore(settings());
        }
        return objects;
    }

    /** The checkpoint store; with {@value #VERIFY_KEY} set, its manifests must carry a signature that verifies. */
    public CheckpointStore checkpoints() {
        return new CheckpointStore(objects(), null, manifestVerifier().orElse(null));
    }

    /**
     * The verifier of {@value #VERIFY_KEY}, empty when unset.
     *
     * @throws IllegalArgumentException when the key is malformed (the message names the setting, never the key)
     */
    public synchronized Optional<ManifestVerifier> manifestVerifier() {
        if (verifier == null) {
            verifier = ManifestVerifier.fromConfig(VERIFY_KEY, config.getOptionalValue(VERIFY_KEY, String.class).orElse(null));
        }
        return verifier;
    }

    @PreDestroy
    synchronized void close() {
        if (objects != null) {
            objects.close();
        }
    }
}
