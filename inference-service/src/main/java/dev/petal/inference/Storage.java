package dev.petal.inference;

import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.Config;

/** The object store from the {@code petal.s3.*} keys, opened on first use (classify from a folder never needs it). */
@ApplicationScoped
public class Storage {
    private final Config config;
    private ObjectStore objects;

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

    public CheckpointStore checkpoints() {
        return new CheckpointStore(objects());
    }

    @PreDestroy
    synchronized void close() {
        if (objects != null) {
            objects.close();
        }
    }
}
