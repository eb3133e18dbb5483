package dev.petal.common.image;

import java.awt.AlphaComposite;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.Raster;
import java.awt.image.SinglePixelPackedSampleModel;
import java.util.Arrays;

/**
 * Turns a decoded image of any colour model (grayscale, palette, RGBA, CMYK, 16-bit) into the
 * model's input: RGB, resized to {@code size x size}, scaled to [0,1], normalised, CHW floats.
 * Training and inference both call this, so a model sees the same pixels in both.
 */
public final class Preprocessor {
    /** Where {@code TYPE_3BYTE_BGR} keeps R, G and B in each pixel's three bytes. */
    private static final int[] BGR_BAND_OFFSETS = {2, 1, 0};

    private final int size;
    private final Normalization normalization;
    private final float[] scale = new float[3];
    private final float[] shift = new float[3];

    public Preprocessor(int size, Normalization normalization) {
        if (size < 8) {
            throw new IllegalArgumentException("image size must be at least 8 pixels, was " + size);
        }
        this.size = size;
        this.normalization = normalization;
        for (int c = 0; c < 3; c++) {
            scale[c] = 1f / (255f * normalization.std(c));
            shift[c] = normalization.mean(c) / normalization.std(c);
        }
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

    /**
     * Writes the CHW tensor of {@code source} into {@code out} starting at {@code offset}. Images in the
     * layouts decoders produce (JPEG's {@code TYPE_3BYTE_BGR}; {@code TYPE_INT_RGB}, which
     * {@link RgbConversion} gives every other colour model it converts) are resized, scaled and normalised in
     * one pass from their pixel array, sampled as Java2D's bilinear {@link #toRgb} samples them (each output
     * pixel's centre mapped into the source, edges clamped, rounded to 8 bits); Java2D's fixed-point weights
     * make its pixels differ from these by at most 2 levels. Gray and the other layouts Java2D draws exactly
     * go through {@link #toRgb}.
     */
    public void toTensor(BufferedImage source, float[] out, int offset) {
        BufferedImage rgb = RgbConversion.toRgb(source);
        if (resizeFromPixels(rgb, out, offset)) {
            return;
        }
        int[] pixels = ((DataBufferInt) toRgb(rgb).getRaster().getDataBuffer()).getData();
        int plane = size * size;
        for (int i = 0; i < plane; i++) {
            int p = pixels[i];
            out[offset + i] = ((p >> 16) & 0xFF) * scale[0] - shift[0];
            out[offset + plane + i] = ((p >> 8) & 0xFF) * scale[1] - shift[1];
            out[offset + 2 * plane + i] = (p & 0xFF) * scale[2] - shift[2];
        }
    }

    /** The one-pass route, where {@code image}'s pixels are one plain array of sRGB bytes or ints; false otherwise. */
    private boolean resizeFromPixels(BufferedImage image, float[] out, int offset) {
        Raster raster = image.getRaster();
        if (raster.getSampleModelTranslateX() != 0 || raster.getSampleModelTranslateY() != 0
                || raster.getDataBuffer().getNumBanks() != 1 || raster.getDataBuffer().getOffset() != 0
                || !image.getColorModel().getColorSpace().isCS_sRGB()) {
            return false;
        }
        int width = image.getWidth();
        Axis rows;
        RowResize rowResize;
        if (image.getType() == BufferedImage.TYPE_3BYTE_BGR && isPackedBgr(raster, width)) {
            byte[] bgr = ((DataBufferByte) raster.getDataBuffer()).getData();
            Axis columns = Axis.of(width, size, 3);
            rows = Axis.of(image.getHeight(), size, 3 * width);
            rowResize = (rowStart, row) -> bgrRow(bgr, rowStart, columns, row);
        } else if (image.getType() == BufferedImage.TYPE_INT_RGB
                && raster.getSampleModel() instanceof SinglePixelPackedSampleModel packed
                && packed.getScanlineStride() == width) {
            int[] pixels = ((DataBufferInt) raster.getDataBuffer()).getData();
            Axis columns = Axis.of(width, size, 1);
            rows = Axis.of(image.getHeight(), size, width);
            rowResize = (rowStart, row) -> rgbRow(pixels, rowStart, columns, row);
        } else {
            return false;
        }
        resize(rowResize, rows, out, offset);
        return true;
    }

    private static boolean isPackedBgr(Raster raster, int width) {
        return raster.getSampleModel() instanceof ComponentSampleModel model
                && model.getPixelStride() == 3 && model.getScanlineStride() == 3 * width
                && Arrays.equals(model.getBandOffsets(), BGR_BAND_OFFSETS);
    }

    /** Fills {@code row} with one source row (from array offset {@code rowStart}) resized to R, G, B floats per pixel. */
    private interface RowResize {
        void fill(int rowStart, float[] row);
    }

    /** Each output row blends two resized source rows; consecutive output rows often share one, resized once. */
    private void resize(RowResize source, Axis rows, float[] out, int offset) {
        float[] upper = new float[3 * size];
        float[] lower = new float[3 * size];
        int upperRow = -1;
        int lowerRow = -1;
        for (int y = 0; y < size; y++) {
            int first = rows.first[y];
            int second = rows.second[y];
            if (first != upperRow) {
                if (first == lowerRow) {
                    float[] swap = upper;
                    upper = lower;
                    lower = swap;
                    lowerRow = -1;
                } else {
                    source.fill(first, upper);
                }
                upperRow = first;
            }
            if (second != lowerRow) {
                source.fill(second, lower);
                lowerRow = second;
            }
            blendRows(upper, lower, rows.weight[y], out, offset + y * size);
        }
    }

    // The per-pixel loops below read arrays and fields into locals and write each channel out by hand: the inference
    // service runs C1 only (docs/performance.md, "The JIT compiler"), which neither hoists loads out of a loop nor
    // unrolls one. The arithmetic is the same, operation for operation.
    private static void bgrRow(byte[] bgr, int rowStart, Axis columns, float[] row) {
        int[] firsts = columns.first;
        int[] seconds = columns.second;
        float[] weights = columns.weight;
        for (int x = 0, o = 0; x < firsts.length; x++, o += 3) {
            int a = rowStart + firsts[x];
            int b = rowStart + seconds[x];
            float w = weights[x];
            float red = bgr[a + 2] & 0xFF;
            float green = bgr[a + 1] & 0xFF;
            float blue = bgr[a] & 0xFF;
            row[o] = red + ((bgr[b + 2] & 0xFF) - red) * w;
            row[o + 1] = green + ((bgr[b + 1] & 0xFF) - green) * w;
            row[o + 2] = blue + ((bgr[b] & 0xFF) - blue) * w;
        }
    }

    private static void rgbRow(int[] rgb, int rowStart, Axis columns, float[] row) {
        int[] firsts = columns.first;
        int[] seconds = columns.second;
        float[] weights = columns.weight;
        for (int x = 0, o = 0; x < firsts.length; x++, o += 3) {
            int a = rgb[rowStart + firsts[x]];
            int b = rgb[rowStart + seconds[x]];
            float w = weights[x];
            float red = (a >> 16) & 0xFF;
            float green = (a >> 8) & 0xFF;
            float blue = a & 0xFF;
            row[o] = red + (((b >> 16) & 0xFF) - red) * w;
            row[o + 1] = green + (((b >> 8) & 0xFF) - green) * w;
            row[o + 2] = blue + ((b & 0xFF) - blue) * w;
        }
    }

    /** Blends two horizontally resized rows of RGB floats and writes one output row of each channel's plane. */
    private void blendRows(float[] upper, float[] lower, float weight, float[] out, int start) {
        int width = size;
        int plane = width * width;
        float redScale = scale[0];
        float greenScale = scale[1];
        float blueScale = scale[2];
        float redShift = shift[0];
        float greenShift = shift[1];
        float blueShift = shift[2];
        int green = start + plane;
        int blue = start + 2 * plane;
        for (int x = 0, i = 0; x < width; x++, i += 3) {
            // Rounded to 8 bits, as Java2D's resize of an 8-bit image is.
            float top = upper[i];
            out[start + x] = (int) (top + (lower[i] - top) * weight + 0.5f) * redScale - redShift;
            top = upper[i + 1];
            out[green + x] = (int) (top + (lower[i + 1] - top) * weight + 0.5f) * greenScale - greenShift;
            top = upper[i + 2];
            out[blue + x] = (int) (top + (lower[i + 2] - top) * weight + 0.5f) * blueScale - blueShift;
        }
    }

    /**
     * Bilinear sampling along one axis: output pixel {@code i}'s centre maps to {@code (i + 0.5) * source /
     * output - 0.5} in source pixels, between {@code first} and {@code second} (array offsets: source index times
     * {@code step}) with {@code weight} on the second; beyond the first or last centre both are the edge pixel.
     */
    private record Axis(int[] first, int[] second, float[] weight) {
        static Axis of(int source, int output, int step) {
            int[] first = new int[output];
            int[] second = new int[output];
            float[] weight = new float[output];
            double ratio = (double) source / output;
            for (int i = 0; i < output; i++) {
                double at = (i + 0.5) * ratio - 0.5;
                int low = (int) Math.floor(at);
                double w = at - low;
                if (low < 0) {
                    low = 0;
                    w = 0;
                } else if (low >= source - 1) {
                    low = source - 1;
                    w = 0;
                }
                first[i] = low * step;
                second[i] = Math.min(low + 1, source - 1) * step;
                weight[i] = (float) w;
            }
            return new Axis(first, second, weight);
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
