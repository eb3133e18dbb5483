package dev.petal.common.image;

/**
 * What an image's header says, read without decoding its pixels.
 *
 * @param format     sniffed from the magic bytes
 * @param width      pixels, from the header
 * @param height     pixels, from the header
 * @param colorModel short description for the {@code color-model} header: {@code rgb}, {@code rgba},
 *                   {@code gray}, {@code gray-alpha}, {@code palette}, {@code palette-alpha},
 *                   {@code cmyk}, {@code other}, with {@code -16bit} appended when samples are
 *                   wider than 8 bits (e.g. {@code rgba-16bit})
 * @param bytes      encoded size
 */
public record ImageInfo(ImageFormat format, int width, int height, String colorModel, int bytes) {
    public long pixels() {
        return (long) width * height;
    }

    public String contentType() {
        return format.contentType();
    }
}
