package dev.petal.common.image;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Per-channel normalisation applied after scaling pixels to [0,1]. */
public enum Normalization {
    /** torchvision's ImageNet statistics, the default. */
    IMAGENET(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f}),
    /** Pixels stay in [0,1], as the source tutorial's {@code ToTensor()} alone. */
    NONE(new float[] {0f, 0f, 0f}, new float[] {1f, 1f, 1f});

    private final float[] mean;
    private final float[] std;

    Normalization(float[] mean, float[] std) {
        this.mean = mean;
        this.std = std;
    }

    public float mean(int channel) {
        return mean[channel];
    }

    public float std(int channel) {
        return std[channel];
    }

    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Normalization parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("a normalization is required; choose imagenet or none");
        }
        for (Normalization n : values()) {
            if (n.id().equalsIgnoreCase(text.trim())) {
                return n;
            }
        }
        throw new IllegalArgumentException("unknown normalization '" + text + "'; choose imagenet or none");
    }
}
