package dev.petal.service.config;

import dev.petal.common.image.ImageLimits;
import org.eclipse.microprofile.config.spi.Converter;

/** Sizes written {@code 20MiB}, {@code 900KiB} or as plain byte counts, as common's {@link ImageLimits} reads them. */
public class ByteSizeConverter implements Converter<Long> {
    @Override
    public Long convert(String value) {
        return ImageLimits.parseBytes(value);
    }
}
