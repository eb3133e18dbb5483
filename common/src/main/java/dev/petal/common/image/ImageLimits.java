package dev.petal.common.image;

import java.util.Locale;
import java.util.function.Function;

/**
 * What an input may cost before it is decoded: its size in bytes and the pixels its header
 * claims (the decompression-bomb guard). Both are checked before any pixel is allocated.
 *
 * @param maxBytes  largest accepted encoded size, in bytes
 * @param maxPixels largest accepted width x height, as read from the header
 */
public record ImageLimits(long maxBytes, long maxPixels) {
    public static final String MAX_BYTES_KEY = "petal.image.max-bytes";
    public static final String MAX_PIXELS_KEY = "petal.image.max-pixels";
    public static final long DEFAULT_MAX_BYTES = 20L * 1024 * 1024;
    public static final long DEFAULT_MAX_PIXELS = 40_000_000L;

    public ImageLimits {
        if (maxBytes < 1) {
            throw new IllegalArgumentException(MAX_BYTES_KEY + " must be positive, was " + maxBytes);
        }
        if (maxPixels < 1) {
            throw new IllegalArgumentException(MAX_PIXELS_KEY + " must be positive, was " + maxPixels);
        }
    }

    /** 20 MiB and 40 million pixels. */
    public static ImageLimits defaults() {
        return new ImageLimits(DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS);
    }

    /**
     * Reads {@value #MAX_BYTES_KEY} and {@value #MAX_PIXELS_KEY} from {@code lookup} (for example
     * {@code System::getProperty}, or a Quarkus {@code Config}); absent or blank keys keep their
     * defaults. Values are whole numbers; {@code _} separators and the suffixes {@code KiB},
     * {@code MiB}, {@code GiB} (bytes) are accepted, as in {@code 20MiB}.
     */
    public static ImageLimits from(Function<String, String> lookup) {
        return new ImageLimits(
                parse(MAX_BYTES_KEY, lookup.apply(MAX_BYTES_KEY), DEFAULT_MAX_BYTES),
                parse(MAX_PIXELS_KEY, lookup.apply(MAX_PIXELS_KEY), DEFAULT_MAX_PIXELS));
    }

    public ImageLimits withMaxBytes(long bytes) {
        return new ImageLimits(bytes, maxPixels);
    }

    public ImageLimits withMaxPixels(long pixels) {
        return new ImageLimits(maxBytes, pixels);
    }

    /**
     * A byte count written as a whole number with optional {@code _} separators and a {@code KiB}, {@code MiB}
     * or {@code GiB} suffix, as in {@code 20MiB}.
     *
     * @throws IllegalArgumentException when it is not
     */
    public static long parseBytes(String value) {
        return parse("a size", value, -1);
    }

    private static long parse(String key, String value, long fallback) {
        if (value == null || value.isBlank()) {
            if (fallback < 0) {
                throw new IllegalArgumentException(key + " must be a whole number of bytes, was empty");
            }
            return fallback;
        }
        String text = value.trim().replace("_", "").toLowerCase(Locale.ROOT);
        long unit = 1;
        for (String[] suffix : new String[][] {{"kib", "1024"}, {"mib", "1048576"}, {"gib", "1073741824"}}) {
            if (text.endsWith(suffix[0])) {
                unit = Long.parseLong(suffix[1]);
                text = text.substring(0, text.length() - suffix[0].length()).trim();
                break;
            }
        }
        try {
            return Math.multiplyExact(Long.parseLong(text), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(key + " must be a whole number, was '" + value + "'", e);
        }
    }
}
