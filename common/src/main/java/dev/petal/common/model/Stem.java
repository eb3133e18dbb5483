package dev.petal.common.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** How a ResNet first reduces its input before the four stages. */
public enum Stem {
    /** torchvision's: 7x7 stride-2 convolution, then a 3x3 stride-2 max-pool (a quarter of the pixels each). */
    IMAGENET,
    /** A 3x3 stride-1 convolution and no pool, for 32-64 px inputs that the ImageNet stem would shrink to nothing. */
    SMALL;

    /** Below this input size the ImageNet stem leaves too few pixels; the small stem is advised. */
    public static final int SMALL_ADVISED_BELOW = 96;

    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Stem parse(String text) {
        for (Stem stem : values()) {
            if (stem.id().equalsIgnoreCase(text == null ? "" : text.trim())) {
                return stem;
            }
        }
        throw new IllegalArgumentException("unknown stem '" + text + "'; choose imagenet or small");
    }
}
