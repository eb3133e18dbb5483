package dev.petal.common.model;

import dev.petal.common.image.Normalization;
import java.util.List;

/**
 * A network before it knows its labels: the architecture, the stem, and the input it is fed (size and
 * normalisation). A training recipe holds one; the labels come from the data, and together they make
 * the {@link ModelSpec} a checkpoint stores.
 */
public record NetworkSpec(Architecture architecture, int imageSize, Stem stem, Normalization normalization) {
    public static final int MIN_IMAGE_SIZE = 16;
    public static final int MAX_IMAGE_SIZE = 1024;

    public NetworkSpec {
        if (architecture == null || stem == null || normalization == null) {
            throw new IllegalArgumentException("a network needs an architecture, a stem and a normalization");
        }
        if (imageSize < MIN_IMAGE_SIZE || imageSize > MAX_IMAGE_SIZE) {
            throw new IllegalArgumentException("image size must be between " + MIN_IMAGE_SIZE + " and " + MAX_IMAGE_SIZE
                    + " pixels, was " + imageSize);
        }
    }

    /** torchvision's defaults: the ImageNet stem and normalisation. */
    public static NetworkSpec of(Architecture architecture, int imageSize) {
        return new NetworkSpec(architecture, imageSize, Stem.IMAGENET, Normalization.IMAGENET);
    }

    public ModelSpec withLabels(List<String> labels) {
        return new ModelSpec(this, labels);
    }

    public NetworkSpec withArchitecture(Architecture value) {
        return new NetworkSpec(value, imageSize, stem, normalization);
    }

    public NetworkSpec withImageSize(int size) {
        return new NetworkSpec(architecture, size, stem, normalization);
    }

    public NetworkSpec withStem(Stem value) {
        return new NetworkSpec(architecture, imageSize, value, normalization);
    }

    public NetworkSpec withNormalization(Normalization value) {
        return new NetworkSpec(architecture, imageSize, stem, value);
    }
}
