package dev.petal.common.image;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Decodes a JPEG at 1/2, 1/4 or 1/8 of its size in the DCT domain: libjpeg-turbo's scaled decode,
 * through OpenCV's JavaCPP binding. A camera photo decoded for a 224-pixel model needs an eighth of
 * its pixels, and the scaled inverse DCT skips the work for the rest, where ImageIO decodes every
 * pixel and then drops most ({@code ImageReadParam} subsampling). Each output pixel is then the mean
 * of its block rather than one sample of it, the same pixels as PIL's {@code Image.draft}.
 *
 * <p>Only the pixel decode happens here: {@link ImageDecoder} has already checked the bytes, the
 * limits, that the markers run to the end of the image, and the colour profile. One check is weaker
 * than ImageIO's: OpenCV does not pass on libjpeg's warnings, so scan data that ends early inside
 * complete markers (corruption, not a cut file) decodes with grey where ImageIO would warn and the
 * image be refused as {@code truncated}; libjpeg prints its warning on standard error.
 *
 * <p>The native libraries load on first use; where they cannot (another platform, no writable cache
 * folder: {@code -Dorg.bytedeco.javacpp.cachedir}), {@link #available()} says so once and ImageIO
 * decodes instead.
 */
final class ScaledJpegDecoder {
    private static final System.Logger LOG = System.getLogger(ScaledJpegDecoder.class.getName());

    private ScaledJpegDecoder() {
    }

    /** Loads the native libraries on the first call only (a service that never decodes a large JPEG never loads them). */
    static boolean available() {
        return Native.LOADED;
    }

    private static final class Native {
        static final boolean LOADED = load();
    }

    /**
     * The largest of 1, 2, 4 and 8 that keeps both sides of a {@code width x height} image at least
     * {@code targetSize} (1 when {@code targetSize} is 0 or less).
     */
    static int scale(int width, int height, int targetSize) {
        if (targetSize <= 0) {
            return 1;
        }
        int scale = 8;
        while (scale > 1 && (width / scale < targetSize || height / scale < targetSize)) {
            scale /= 2;
        }
        return scale;
    }

    /**
     * {@code jpeg} decoded at {@code 1/scale} (2, 4 or 8) as {@code TYPE_3BYTE_BGR}, embedded colour
     * profiles and EXIF orientation ignored as ImageIO ignores them; null when libjpeg-turbo fails
     * (the caller decodes with ImageIO, which says why).
     */
    static BufferedImage decode(byte[] jpeg, int scale) {
        int flags = opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION | switch (scale) {
            case 2 -> opencv_imgcodecs.IMREAD_REDUCED_COLOR_2;
            case 4 -> opencv_imgcodecs.IMREAD_REDUCED_COLOR_4;
            case 8 -> opencv_imgcodecs.IMREAD_REDUCED_COLOR_8;
            default -> throw new IllegalArgumentException("scale must be 2, 4 or 8, not " + scale);
        };
        try (BytePointer data = new BytePointer(jpeg);
                Mat encoded = new Mat(1, jpeg.length, opencv_core.CV_8UC1, data);
                Mat decoded = opencv_imgcodecs.imdecode(encoded, flags)) {
            if (decoded.empty() || decoded.channels() != 3 || decoded.depth() != opencv_core.CV_8U || !decoded.isContinuous()) {
                return null;
            }
            BufferedImage image = new BufferedImage(decoded.cols(), decoded.rows(), BufferedImage.TYPE_3BYTE_BGR);
            byte[] pixels = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
            // OpenCV's rows of BGR bytes are the layout of TYPE_3BYTE_BGR.
            decoded.data().get(pixels);
            return image;
        }
    }

    private static boolean load() {
        try {
            Loader.load(opencv_imgcodecs.class);
            return true;
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.WARNING, "libjpeg-turbo (OpenCV's native libraries) did not load on " + Loader.getPlatform()
                    + ": large JPEGs decode with ImageIO's subsampling, slower and with slightly different pixels from a host where it loads ("
                    + e + ")");
            return false;
        }
    }
}
