package dev.petal.common.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The smallest and largest value each activation of a network took on calibration images, by site: the input
 * ({@code pixels}), each convolution's output (after its ReLU, if it has one) under the convolution's name, and each
 * residual block's output under the block's name. Int8 serving maps each site's range onto 256 levels
 * ({@link Precision#INT8}); the trainer measures the ranges on the held-out split and stores them in the manifest.
 */
public record ActivationRanges(Map<String, Range> sites) {
    /** The site of the network's input. */
    public static final String INPUT = "pixels";

    public ActivationRanges {
        sites = Map.copyOf(sites);
    }

    /** One site's range. */
    public record Range(float min, float max) {
        public Range widen(float low, float high) {
            return new Range(Math.min(min, low), Math.max(max, high));
        }
    }

    /** {@code site}'s range; an {@link IllegalArgumentException} if the calibration has none (another network's). */
    public Range of(String site) {
        Range r = sites.get(site);
        if (r == null) {
            throw new IllegalArgumentException("the int8 calibration has no range for '" + site
                    + "': it was measured on another network; calibrate this one");
        }
        return r;
    }

    /** Collects ranges site by site. */
    public static final class Builder {
        private final Map<String, Range> sites = new LinkedHashMap<>();

        public void widen(String site, float low, float high) {
            sites.merge(site, new Range(low, high), (a, b) -> a.widen(b.min(), b.max()));
        }

        public ActivationRanges build() {
            return new ActivationRanges(sites);
        }
    }
}
