package dev.petal.service.config;

import dev.petal.common.image.ImageLimits;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;

/**
 * The {@code petal.image.*} limits (common's {@link ImageLimits}), the same keys in every service; defaults in this
 * module's {@code META-INF/microprofile-config.properties}.
 */
@ConfigMapping(prefix = "petal.image")
public interface ImageConfig {
    /** Largest accepted image, in bytes; {@code 20MiB}, {@code 512KiB} and plain numbers are accepted. */
    @WithConverter(ByteSizeConverter.class)
    long maxBytes();

    /** Largest width x height a header may claim (the decompression-bomb guard). */
    long maxPixels();

    default ImageLimits limits() {
        return new ImageLimits(maxBytes(), maxPixels());
    }
}
