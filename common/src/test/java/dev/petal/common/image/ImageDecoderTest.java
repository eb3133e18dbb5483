package dev.petal.common.image;

import static dev.petal.testing.TestImages.cut;
import static dev.petal.testing.TestImages.encode;
import static dev.petal.testing.TestImages.filled;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.testing.TestImages;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class ImageDecoderTest {
    private static final ImageDecoder DECODER = new ImageDecoder();
    private static final Preprocessor PLAIN = new Preprocessor(16, Normalization.NONE);

    // ---- bad inputs: every one gets a stable error class ----

    @Test
    void zeroBytesAreEmpty() {
        rejected("empty", () -> DECODER.decode(new byte[0]));
        rejected("empty", () -> DECODER.inspect(new byte[0]));
    }

    @Test
    void randomBytesTextAndHtmlAreNotImages() {
        byte[] random = new byte[4096];
        new Random(7).nextBytes(random);
        rejected("not-an-image", () -> DECODER.decode(random));
        rejected("not-an-image", () -> DECODER.decode("daisy,dandelion,rose\n1,2,3\n".getBytes(StandardCharsets.UTF_8)));
        rejected("not-an-image", () -> DECODER.decode(
                "<!DOCTYPE html><html><head><title>404</title></head><body>Not Found</body></html>".getBytes(StandardCharsets.UTF_8)));
        rejected("not-an-image", () -> DECODER.decode("BMW is a car, not a bitmap".getBytes(StandardCharsets.UTF_8)));
        rejected("not-an-image", () -> DECODER.decode(new byte[] {(byte) 0xFF}));
    }

    @Test
    void knownButUnsupportedFormatsSaySo() {
        byte[] tiff = {'I', 'I', 0x2A, 0, 8, 0, 0, 0, 0, 0};
        byte[] heic = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c', 0, 0, 0, 0};
        byte[] svg = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>".getBytes(StandardCharsets.UTF_8);
        for (byte[] bytes : List.of(tiff, heic, svg)) {
            rejected("unsupported-format", () -> DECODER.decode(bytes));
        }
    }

    @Test
    void overTheByteLimitIsTooLarge() {
        byte[] png = encode(TestImages.photo(64, 64, 1), "png");
        ImageDecoder small = new ImageDecoder(ImageLimits.defaults().withMaxBytes(png.length - 1));
        rejected("too-large", () -> small.inspect(png));
        rejected("too-large", () -> DECODER.decode(new byte[(int) ImageLimits.DEFAULT_MAX_BYTES + 1]));
    }

    @Test
    void overThePixelLimitIsTooManyPixels() {
        byte[] png = encode(TestImages.photo(200, 200, 1), "png");
        ImageDecoder small = new ImageDecoder(ImageLimits.defaults().withMaxPixels(200 * 200 - 1));
        rejected("too-many-pixels", () -> small.decode(png));
        assertEquals(200, new ImageDecoder(ImageLimits.defaults().withMaxPixels(200 * 200)).decode(png).width());
    }

    @Test
    void truncatedJpegIsRejectedWhereImageIoWouldReturnGrey() throws Exception {
        for (boolean progressive : new boolean[] {false, true}) {
            byte[] jpeg = TestImages.jpeg(TestImages.photo(256, 256, 3), progressive);
            assertEquals(256, DECODER.decode(jpeg).width());
            // Plain ImageIO hands back a picture for half a file (grey where the data ran out).
            assertEquals(256, ImageIO.read(new ByteArrayInputStream(cut(jpeg, jpeg.length / 2))).getWidth());
            for (int length : new int[] {jpeg.length / 2, jpeg.length - 2, jpeg.length - 1, 700, 30}) {
                RejectedImageException e = rejected("truncated", () -> DECODER.decode(cut(jpeg, length)));
                assertTrue(e.reason().contains("jpeg"), e.reason());
            }
        }
    }

    @Test
    void bytesAfterTheEndOfAJpegAreTolerated() {
        byte[] jpeg = TestImages.jpeg(TestImages.photo(64, 64, 3), false);
        byte[] trailer = new byte[5000]; // phones append motion-photo videos after EOI
        new Random(1).nextBytes(trailer);
        byte[] withTrailer = new byte[jpeg.length + trailer.length];
        System.arraycopy(jpeg, 0, withTrailer, 0, jpeg.length);
        System.arraycopy(trailer, 0, withTrailer, jpeg.length, trailer.length);
        assertEquals(64, DECODER.decode(withTrailer).width());
    }

    @Test
    void truncatedPngGifBmpAndWebpAreRejected() {
        byte[] png = encode(TestImages.photo(128, 128, 4), "png");
        rejected("truncated", () -> DECODER.decode(cut(png, png.length / 2)));
        rejected("truncated", () -> DECODER.decode(cut(png, png.length - 12))); // no IEND
        rejected("truncated", () -> DECODER.inspect(cut(png, png.length - 1)));
        byte[] gif = encode(TestImages.palette(64, 64, 1), "gif");
        rejected("truncated", () -> DECODER.decode(cut(gif, gif.length - 3)));
        byte[] bmp = encode(TestImages.photo(64, 64, 4), "bmp");
        rejected("truncated", () -> DECODER.decode(cut(bmp, bmp.length - 100)));
        byte[] webp = TestImages.webpLossless(8, 8, 255, 255, 0, 0);
        rejected("truncated", () -> DECODER.decode(cut(webp, webp.length - 3)));
    }

    @Test
    void pngWithBrokenCompressedDataIsCorrupt() {
        byte[] garbage = new byte[300];
        new Random(3).nextBytes(garbage);
        rejected("corrupt", () -> DECODER.decode(TestImages.png(16, 16, 8, 2, garbage)));
        rejected("corrupt", () -> DECODER.decode(TestImages.png(0, 16, 8, 2, garbage)));
    }

    @Test
    void pngBombClaimingThirtyThousandSquaredIsRejectedInMilliseconds() {
        byte[] bomb = TestImages.png(30_000, 30_000, 8, 2, TestImages.zeroScanlines(10, 1));
        assertTrue(bomb.length < 100, "a tiny file: " + bomb.length);
        rejected("too-many-pixels", () -> DECODER.inspect(bomb)); // warm up
        long start = System.nanoTime();
        RejectedImageException e = rejected("too-many-pixels", () -> DECODER.decode(bomb));
        double ms = (System.nanoTime() - start) / 1e6;
        assertTrue(ms < 50, "took " + ms + " ms");
        assertTrue(e.reason().contains("30000 x 30000"), e.reason());
    }

    @Test
    void deeplyCompressedHugePngIsRejectedBeforeInflating() {
        byte[] idat = TestImages.zeroScanlines(20_000, 20_000); // 400 MB of zero pixels
        byte[] png = TestImages.png(20_000, 20_000, 8, 0, idat);
        assertTrue(png.length < 1_000_000, "deflate squeezed 400 MB into " + png.length + " bytes");
        long start = System.nanoTime();
        rejected("too-many-pixels", () -> DECODER.decode(png));
        double ms = (System.nanoTime() - start) / 1e6;
        assertTrue(ms < 100, "took " + ms + " ms");
    }

    // ---- good inputs: every colour model comes out as the expected RGB ----

    @Test
    void cmykJpegWithAdobeMarkerDecodesToRed() {
        byte[] jpeg = TestImages.cmykJpeg(32, 32, 0, 255, 255, 0);
        DecodedImage image = DECODER.decode(jpeg);
        assertEquals(new ImageInfo(ImageFormat.JPEG, 32, 32, "cmyk", jpeg.length), image.info());
        assertRgb(image, 1, 0, 0, 0.06);
        byte[] black = TestImages.cmykJpeg(32, 32, 0, 0, 0, 255);
        assertRgb(DECODER.decode(black), 0, 0, 0, 0.1);
    }

    @Test
    void sixteenBitPngsScaleToEightBits() {
        DecodedImage rgb = DECODER.decode(encode(TestImages.rgb16(32, 32, 65535, 0, 32896), "png"));
        assertEquals("rgb-16bit", rgb.info().colorModel());
        assertRgb(rgb, 1, 0, 128 / 255.0, 0.003);
        DecodedImage rgba = DECODER.decode(encode(TestImages.rgb16(32, 32, 65535, 0, 0, 65535), "png"));
        assertEquals("rgba-16bit", rgba.info().colorModel());
        assertRgb(rgba, 1, 0, 0, 0.003);
        DecodedImage gray = DECODER.decode(encode(TestImages.gray16(32, 32, 32896), "png"));
        assertEquals("gray-16bit", gray.info().colorModel());
        assertRgb(gray, 128 / 255.0, 128 / 255.0, 128 / 255.0, 0.003);
    }

    @Test
    void grayscalePngsAreCopiedToAllChannelsWithoutGammaShift() {
        DecodedImage gray = DECODER.decode(encode(filled(BufferedImage.TYPE_BYTE_GRAY, 32, 32, 128), "png"));
        assertEquals("gray", gray.info().colorModel());
        assertRgb(gray, 128 / 255.0, 128 / 255.0, 128 / 255.0, 0.003);
        // Java2D alone turns this 128 into 188 (it takes the gray as linear light).
        DecodedImage grayAlpha = DECODER.decode(encode(TestImages.grayAlpha(32, 32, 128, 255), "png"));
        assertEquals("gray-alpha", grayAlpha.info().colorModel());
        assertRgb(grayAlpha, 128 / 255.0, 128 / 255.0, 128 / 255.0, 0.003);
        assertRgb(DECODER.decode(TestImages.jpeg(filled(BufferedImage.TYPE_BYTE_GRAY, 32, 32, 128), false)),
                128 / 255.0, 128 / 255.0, 128 / 255.0, 0.01);
    }

    @Test
    void rgbaPngDropsAlphaAndKeepsTheColour() {
        DecodedImage opaque = DECODER.decode(encode(filled(BufferedImage.TYPE_INT_ARGB, 32, 32, 255, 0, 0, 255), "png"));
        assertEquals("rgba", opaque.info().colorModel());
        assertRgb(opaque, 1, 0, 0, 0.003);
        // Fully transparent red: Java2D's compositing would give black; PIL's convert("RGB") gives red.
        assertRgb(DECODER.decode(encode(filled(BufferedImage.TYPE_INT_ARGB, 32, 32, 255, 0, 0, 0), "png")), 1, 0, 0, 0.003);
        assertRgb(DECODER.decode(encode(filled(BufferedImage.TYPE_INT_ARGB, 32, 32, 0, 0, 255, 77), "png")), 0, 0, 1, 0.003);
    }

    @Test
    void paletteGifAndPngDecodeToTheirColours() {
        byte[] gif = encode(TestImages.palette(32, 32, 1), "gif");
        DecodedImage fromGif = DECODER.decode(gif);
        assertEquals(ImageFormat.GIF, fromGif.info().format());
        assertEquals("palette", fromGif.info().colorModel());
        assertRgb(fromGif, 1, 0, 0, 0.003);
        assertRgb(DECODER.decode(encode(TestImages.palette(32, 32, 2), "png")), 0, 1, 0, 0.003);
    }

    @Test
    void bmpAndPlainJpegDecode() {
        DecodedImage bmp = DECODER.decode(encode(filled(BufferedImage.TYPE_3BYTE_BGR, 31, 17, 255, 0, 0), "bmp"));
        assertEquals(new ImageInfo(ImageFormat.BMP, 31, 17, "rgb", bmp.info().bytes()), bmp.info());
        assertRgb(bmp, 1, 0, 0, 0.003);
        DecodedImage jpeg = DECODER.decode(TestImages.jpeg(filled(BufferedImage.TYPE_3BYTE_BGR, 32, 32, 0, 0, 255), false));
        assertEquals("rgb", jpeg.info().colorModel());
        assertRgb(jpeg, 0, 0, 1, 0.03);
    }

    @Test
    void losslessWebpDecodes() {
        byte[] webp = TestImages.webpLossless(20, 10, 255, 0, 255, 0);
        DecodedImage image = DECODER.decode(webp);
        assertEquals(ImageFormat.WEBP, image.info().format());
        assertEquals(20, image.info().width());
        assertEquals(10, image.info().height());
        assertRgb(image, 0, 1, 0, 0.003);
    }

    @Test
    void inspectReadsTheHeaderOnly() {
        byte[] jpeg = TestImages.jpeg(TestImages.photo(300, 200, 5), false);
        ImageInfo info = DECODER.inspect(jpeg);
        assertEquals(new ImageInfo(ImageFormat.JPEG, 300, 200, "rgb", jpeg.length), info);
        assertEquals("image/jpeg", info.contentType());
        assertEquals(60_000, info.pixels());
    }

    @Test
    void targetSizeShrinksLargeSourcesButNeverBelowTheTarget() {
        BufferedImage photo = TestImages.photo(1000, 700, 6);
        byte[] jpeg = TestImages.jpeg(photo, false);
        DecodedImage full = DECODER.decode(jpeg);
        assertEquals(1000, full.width());
        DecodedImage halved = DECODER.decode(jpeg, 224); // 1/4 would be 175 rows: libjpeg-turbo's 1/2
        assertEquals(500, halved.width());
        assertEquals(350, halved.height());
        assertEquals(1000, halved.info().width()); // the header's size, not the decoded one
        DecodedImage subsampled = DECODER.decode(encode(photo, "png"), 224); // every 4th column, every 3rd row
        assertEquals(250, subsampled.width());
        assertEquals(234, subsampled.height());
        assertEquals(300, DECODER.decode(TestImages.jpeg(TestImages.photo(300, 300, 6), false), 224).width());
        assertEquals(300, DECODER.decode(TestImages.jpeg(TestImages.photo(300, 300, 6), false), 151).width()); // half of 300 is under 151
    }

    @Test
    void oneDecoderServesManyThreads() throws Exception {
        List<byte[]> inputs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            inputs.add(TestImages.jpeg(TestImages.photo(120 + i, 90, i), false));
            inputs.add(encode(TestImages.photo(60, 40 + i, i), "png"));
        }
        Preprocessor pre = new Preprocessor(32, Normalization.IMAGENET);
        List<float[]> expected = new ArrayList<>();
        for (byte[] input : inputs) {
            expected.add(pre.toTensor(DECODER.decode(input).image()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                jobs.add(pool.submit(() -> {
                    for (int round = 0; round < 10; round++) {
                        for (int i = 0; i < inputs.size(); i++) {
                            assertArrayEquals(expected.get(i), pre.toTensor(DECODER.decode(inputs.get(i)).image()));
                        }
                        rejected("truncated", () -> DECODER.decode(cut(inputs.get(0), 500)));
                    }
                    return null;
                }));
            }
            for (Future<?> job : jobs) {
                job.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void limitsComeFromConfiguration() {
        assertEquals(ImageLimits.defaults(), ImageLimits.from(key -> null));
        assertEquals(new ImageLimits(5 * 1024 * 1024, 1_000_000),
                ImageLimits.from(Map.of(ImageLimits.MAX_BYTES_KEY, "5MiB", ImageLimits.MAX_PIXELS_KEY, "1_000_000")::get));
        assertThrows(IllegalArgumentException.class, () -> ImageLimits.from(Map.of(ImageLimits.MAX_PIXELS_KEY, "lots")::get));
        assertThrows(IllegalArgumentException.class, () -> new ImageLimits(0, 1));
    }

    @Test
    void errorClassesAreStable() {
        List<String> codes = new ArrayList<>();
        for (RejectedImageException.Kind kind : RejectedImageException.Kind.values()) {
            codes.add(kind.code());
        }
        assertEquals(List.of("empty", "too-large", "not-an-image", "unsupported-format", "truncated", "too-many-pixels", "corrupt"), codes);
        RejectedImageException e = new RejectedImageException(RejectedImageException.Kind.CORRUPT, "line one\nline two\u00e9");
        assertEquals("line one line two", e.reason());
    }

    private static RejectedImageException rejected(String errorClass, Executable call) {
        RejectedImageException e = assertThrows(RejectedImageException.class, call);
        assertEquals(errorClass, e.errorClass(), e.reason());
        return e;
    }

    /** Centre pixel of the image after the shared preprocessing, in [0,1]. */
    private static void assertRgb(DecodedImage image, double r, double g, double b, double tolerance) {
        float[] t = PLAIN.toTensor(image.image());
        int plane = 16 * 16;
        int centre = 8 * 16 + 8;
        String got = String.format("got (%.4f, %.4f, %.4f) from %s", t[centre], t[plane + centre], t[2 * plane + centre], image.info());
        assertEquals(r, t[centre], tolerance, got);
        assertEquals(g, t[plane + centre], tolerance, got);
        assertEquals(b, t[2 * plane + centre], tolerance, got);
    }
}
