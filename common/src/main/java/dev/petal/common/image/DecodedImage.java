package dev.petal.common.image;

import java.awt.image.BufferedImage;

/**
 * A decoded image and its header. {@code image} keeps the source's colour model (gray, palette,
 * 16-bit, alpha, ...; CMYK JPEGs arrive already converted to RGB); {@link Preprocessor} turns
 * any of them into the model's RGB input. When decoding was asked for a target size, the image
 * may be smaller than {@code info}'s width x height (never smaller than the target).
 */
public record DecodedImage(ImageInfo info, BufferedImage image) {
    public int width() {
        return image.getWidth();
    }

    public int height() {
        return image.getHeight();
    }
}
