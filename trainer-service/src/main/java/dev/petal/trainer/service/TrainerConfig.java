package dev.petal.trainer.service;

import dev.petal.common.image.ImageLimits;
import dev.petal.common.records.KafkaClientConfig;
import dev.petal.common.storage.S3Settings;
import java.util.Properties;
import java.util.function.Function;
import org.eclipse.microprofile.config.ConfigProvider;

/** The trainer's addresses and limits from Quarkus configuration (environment variables included). */
public final class TrainerConfig {
    public static final String DEVICE = "petal.trainer.device";

    private TrainerConfig() {}

    public static Function<String, String> lookup() {
        var config = ConfigProvider.getConfig();
        return key -> config.getOptionalValue(key, String.class).orElse(null);
    }

    public static Properties kafka() {
        return KafkaClientConfig.from(ConfigProvider.getConfig().getPropertyNames(), lookup());
    }

    public static S3Settings s3() {
        return S3Settings.fromConfig(lookup());
    }

    public static ImageLimits imageLimits() {
        return ImageLimits.from(lookup());
    }

    public static String device() {
        String device = lookup().apply(DEVICE);
        return device == null || device.isBlank() ? "auto" : device;
    }
}
