package dev.petal.common.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferInt;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * Converts a decoded image of any colour model to opaque 8-bit RGB, the way PIL's
 * {@code convert("RGB")} does, before Java2D resizes it. Java2D alone gets two cases wrong:
 * <ul>
 *   <li>gray images that are not {@code TYPE_BYTE_GRAY}/{@code TYPE_USHORT_GRAY} (gray + alpha
 *       PNGs, for one) are taken as linear light and brightened: a gray of 128 becomes 188;</li>
 *   <li>alpha is composited, so fully transparent pixels lose their colour and turn black.</li>
 * </ul>
 * Here gray samples are copied to R, G and B, 16-bit samples are scaled to 8 bits, and alpha is
 * dropped (the colour under it kept), for images in gray or sRGB colour spaces and palettes.
 * Other colour models (packed ARGB included, whose colour {@code getRGB} keeps under alpha) go
 * through the colour model's own conversion.
 */
public final class RgbConversion {
    private RgbConversion() {
    }

    /** True when Java2D draws {@code image} to RGB exactly, with no conversion needed first. */
    public static boolean isDirectlyDrawable(BufferedImage image) {
        return switch (image.getType()) {
            case BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_BGR, BufferedImage.TYPE_3BYTE_BGR,
                    BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_USHORT_GRAY,
                    BufferedImage.TYPE_USHORT_565_RGB, BufferedImage.TYPE_USHORT_555_RGB -> true;
            case BufferedImage.TYPE_BYTE_BINARY, BufferedImage.TYPE_BYTE_INDEXED -> !image.getColorModel().hasAlpha();
            default -> false;
        };
    }

    /** {@code image} itself when Java2D can draw it exactly; otherwise an opaque {@code TYPE_INT_RGB} copy. */
    public static BufferedImage toRgb(BufferedImage image) {
        if (isDirectlyDrawable(image)) {
            return image;
        }
        int width = image.getWidth();
        int height = image.getHeight();
        BufferedImage rgb = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] out = ((DataBufferInt) rgb.getRaster().getDataBuffer()).getData();
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        if (cm instanceof IndexColorModel palette) {
            fromPalette(palette, raster, out);
        } else if (cm instanceof ComponentColorModel && !cm.isAlphaPremultiplied() && isIntegral(raster) && maxComponentSize(cm) <= 16
                && (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY || cm.getColorSpace().isCS_sRGB())) {
            fromComponents(cm, raster, out);
        } else {
            int[] row = new int[width];
            for (int y = 0; y < height; y++) {
                image.getRGB(0, y, width, 1, row, 0, width);
                for (int x = 0; x < width; x++) {
                    out[y * width + x] = row[x] & 0xFFFFFF;
                }
            }
        }
        return rgb;
    }

    private static int maxComponentSize(ColorModel cm) {
        int bits = 0;
        for (int c = 0; c < cm.getNumComponents(); c++) {
            bits = Math.max(bits, cm.getComponentSize(c));
        }
        return bits;
    }

    private static boolean isIntegral(Raster raster) {
        int type = raster.getDataBuffer().getDataType();
        return type == DataBuffer.TYPE_BYTE || type == DataBuffer.TYPE_USHORT || type == DataBuffer.TYPE_INT;
    }

    private static void fromPalette(IndexColorModel palette, Raster raster, int[] out) {
        int[] colours = new int[palette.getMapSize()];
        palette.getRGBs(colours);
        int width = raster.getWidth();
        int[] row = new int[width];
        for (int y = 0; y < raster.getHeight(); y++) {
            raster.getSamples(0, y, width, 1, 0, row);
            for (int x = 0; x < width; x++) {
                int index = row[x];
                out[y * width + x] = index < colours.length ? colours[index] & 0xFFFFFF : 0;
            }
        }
    }

    private static void fromComponents(ColorModel cm, Raster raster, int[] out) {
        int width = raster.getWidth();
        int bands = raster.getNumBands();
        boolean gray = cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        int[] lookupR = scaleTable(cm.getComponentSize(0));
        int[] lookupG = gray ? lookupR : scaleTable(cm.getComponentSize(1));
        int[] lookupB = gray ? lookupR : scaleTable(cm.getComponentSize(2));
        int[] row = new int[width * bands];
        for (int y = 0; y < raster.getHeight(); y++) {
            raster.getPixels(0, y, width, 1, row);
            int o = y * width;
            if (gray) {
                for (int x = 0, s = 0; x < width; x++, s += bands) {
                    int v = lookupR[row[s]];
                    out[o + x] = v << 16 | v << 8 | v;
                }
            } else {
                for (int x = 0, s = 0; x < width; x++, s += bands) {
                    out[o + x] = lookupR[row[s]] << 16 | lookupG[row[s + 1]] << 8 | lookupB[row[s + 2]];
                }
            }
        }
    }

    /** Sample value of {@code bits} bits to 8 bits, rounded. */
    private static int[] scaleTable(int bits) {
        int max = (1 << bits) - 1;
        int[] table = new int[max + 1];
        for (int v = 0; v <= max; v++) {
            table[v] = (int) ((v * 255L + max / 2) / max);
        }
        return table;
    }
}
