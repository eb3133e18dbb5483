package dev.petal.common.image;

import java.awt.AlphaComposite;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;

/**
 * Turns a decoded image of any colour model (grayscale, palette, RGBA, CMYK, 16-bit) into the
 * model's input: RGB, resized to {@code size x size}, scaled to [0,1], normalised, CHW floats.
 * Training and inference both call this, so a model sees the same pixels in both.
 */
public final class Preprocessor {
    private final int size;
    private final Normalization normalization;

    public Preprocessor(int size, Normalization normalization) {
        if (size < 8) {
            throw new IllegalArgumentException("image size must be at least 8 pixels, was " + size);
        }
        this.size = size;
        this.normalization = normalization;
    }

    public int size() {
        return size;
    }

    public Normalization normalization() {
        return normalization;
    }

    /** Floats per image: 3 x size x size. */
    public int tensorLength() {
        return 3 * size * size;
    }

    /**
     * RGB image of exactly {@code size x size}. Alpha is dropped (the colour under it kept), gray
     * is copied to R, G and B, 16-bit samples scaled to 8 bits ({@link RgbConversion}); then
     * Java2D resizes bilinearly.
     */
    public BufferedImage toRgb(BufferedImage source) {
        BufferedImage rgb = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = rgb.createGraphics();
        try {
            g.setComposite(AlphaComposite.Src);
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_SPEED);
            g.drawImage(RgbConversion.toRgb(source), 0, 0, size, size, null);
        } finally {
            g.dispose();
        }
        return rgb;
    }

    /** Writes the CHW tensor of {@code source} into {@code out} starting at {@code offset}. */
    public void toTensor(BufferedImage source, float[] out, int offset) {
        int[] pixels = ((DataBufferInt) toRgb(source).getRaster().getDataBuffer()).getData();
        int plane = size * size;
        float[] scale = new float[3];
        float[] shift = new float[3];
        for (int c = 0; c < 3; c++) {
            scale[c] = 1f / (255f * normalization.std(c));
            shift[c] = normalization.mean(c) / normalization.std(c);
        }
        for (int i = 0; i < plane; i++) {
            int p = pixels[i];
            out[offset + i] = ((p >> 16) & 0xFF) * scale[0] - shift[0];
            out[offset + plane + i] = ((p >> 8) & 0xFF) * scale[1] - shift[1];
            out[offset + 2 * plane + i] = (p & 0xFF) * scale[2] - shift[2];
        }
    }

    /**
     * The image a CHW tensor from {@link #toTensor} shows, normalisation undone: what the model saw
     * (a report's thumbnail of a valid image, without fetching and decoding it again).
     */
    public BufferedImage toImage(float[] tensor, int offset) {
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        int[] pixels = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
        int plane = size * size;
        for (int i = 0; i < plane; i++) {
            int rgb = 0;
            for (int c = 0; c < 3; c++) {
                float v = (tensor[offset + c * plane + i] * normalization.std(c) + normalization.mean(c)) * 255f;
                rgb = (rgb << 8) | Math.max(0, Math.min(255, Math.round(v)));
            }
            pixels[i] = rgb;
        }
        return image;
    }

    public float[] toTensor(BufferedImage source) {
        float[] out = new float[tensorLength()];
        toTensor(source, out, 0);
        return out;
    }
}
