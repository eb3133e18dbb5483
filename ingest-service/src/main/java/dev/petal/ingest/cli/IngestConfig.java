package dev.petal.ingest.cli;

import dev.petal.common.image.ImageLimits;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import dev.petal.ingest.ImageCheck;
import dev.petal.ingest.IngestSettings;
import java.util.function.Function;
import java.util.function.Supplier;
import org.eclipse.microprofile.config.ConfigProvider;

/** Reads the ingest, image-limit and object-store settings from Quarkus configuration (with env overrides). */
public final class IngestConfig {
    private IngestConfig() {}

    public static Function<String, String> lookup() {
        var config = ConfigProvider.getConfig();
        return key -> config.getOptionalValue(key, String.class).orElse(null);
    }

    public static IngestSettings settings() {
        return IngestSettings.fromConfig(lookup());
    }

    public static ImageCheck imageCheck() {
        return new ImageCheck(ImageLimits.from(lookup()));
    }

    /** Opens the object store only when a claim-check needs it. */
    public static Supplier<ObjectStore> objectStore() {
        S3Settings s3 = S3Settings.fromConfig(lookup());
        return () -> new ObjectStore(s3);
    }
}
