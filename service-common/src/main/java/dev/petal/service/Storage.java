package dev.petal.service;

import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.ManifestVerifier;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import dev.petal.service.config.CheckpointKeys;
import dev.petal.service.config.S3Config;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/**
 * The object store from the {@code petal.s3.*} keys, opened on first use (classify from a folder never
 * needs it), and the checkpoints in it, read with the signature check of {@value CheckpointKeys#VERIFY_KEY} when set.
 */
@ApplicationScoped
public class Storage {
    private final S3Config s3;
    private final CheckpointKeys checkpoints;
    private ObjectStore objects;
    private Optional<ManifestVerifier> verifier;

    public Storage(S3Config s3, CheckpointKeys checkpoints) {
        this.s3 = s3;
        this.checkpoints = checkpoints;
    }

    public S3Settings settings() {
        return s3.settings();
    }

    public synchronized ObjectStore objects() {
        if (objects == null) {
            objects = new ObjectStore(settings());
        }
        return objects;
    }

    /** The checkpoint store; with {@value CheckpointKeys#VERIFY_KEY} set, its manifests must carry a signature that verifies. */
    public CheckpointStore checkpoints() {
        return new CheckpointStore(objects(), null, manifestVerifier().orElse(null));
    }

    /**
     * The verifier of {@value CheckpointKeys#VERIFY_KEY}, empty when unset.
     *
     * @throws IllegalArgumentException when the key is malformed (the message names the setting, never the key)
     */
    public synchronized Optional<ManifestVerifier> manifestVerifier() {
        if (verifier == null) {
            verifier = ManifestVerifier.fromConfig(CheckpointKeys.VERIFY_KEY, checkpoints.verifyKey().orElse(null));
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
