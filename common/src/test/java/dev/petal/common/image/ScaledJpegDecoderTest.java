package dev.petal.common.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.testing.TestImages;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A JPEG decoded for a small model input against PIL's {@code Image.draft} (libjpeg-turbo's own scaled
 * decode), pixel by pixel; goldens from {@code src/test/resources/jpeg/make_scaled_decode_golden.py}.
 */
class ScaledJpegDecoderTest {
    private static final ImageDecoder DECODER = new ImageDecoder();

    @Test
    void libjpegTurboLoadsOnThisPlatform() {
        assertTrue(ScaledJpegDecoder.available(), "OpenCV's native libraries should load where libtorch's do");
    }

    @ParameterizedTest
    @CsvSource({"224, 460, 345", "86, 115, 87"})
    void reducedDecodeMatchesPilDraft(int targetSize, int width, int height) throws IOException {
        BufferedImage golden = read("scaled_source_draft_" + targetSize + ".png");
        assertEquals(width, golden.getWidth());
        assertEquals(height, golden.getHeight());
        BufferedImage decoded = DECODER.decode(bytes("scaled_source.jpg"), targetSize).image();
        assertEquals(width, decoded.getWidth());
        assertEquals(height, decoded.getHeight());
        int largest = 0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int a = decoded.getRGB(x, y);
                int b = golden.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    largest = Math.max(largest, Math.abs((a >> shift & 0xFF) - (b >> shift & 0xFF)));
                }
            }
        }
        assertTrue(largest <= 1, "largest channel difference from PIL's draft decode: " + largest);
    }

    @Test
    void scaleKeepsBothSidesAtLeastTheTarget() {
        assertEquals(8, ScaledJpegDecoder.scale(4000, 3000, 224)); // 500 x 375
        assertEquals(4, ScaledJpegDecoder.scale(2000, 1500, 224)); // 1/8 would be 187 rows
        assertEquals(2, ScaledJpegDecoder.scale(920, 690, 224));
        assertEquals(1, ScaledJpegDecoder.scale(447, 1000, 224));
        assertEquals(1, ScaledJpegDecoder.scale(4000, 3000, 0));
    }

    @Test
    void aProfiledJpegIsConvertedToSrgbAtReducedScaleAsAtFullSize() {
        byte[] gray100 = TestImages.jpeg(TestImages.filled(BufferedImage.TYPE_INT_RGB, 960, 720, 100, 100, 100), false);
        byte[] linear = TestImages.withIccProfile(gray100, ColorSpace.CS_LINEAR_RGB);
        BufferedImage full = DECODER.decode(linear).image(); // ImageIO, then the profile's transform
        BufferedImage reduced = DECODER.decode(linear, 224).image(); // libjpeg-turbo at 1/2, then the same
        assertEquals(480, reduced.getWidth());
        int fullGreen = full.getRGB(480, 360) >> 8 & 0xFF;
        int reducedGreen = reduced.getRGB(240, 180) >> 8 & 0xFF;
        assertTrue(fullGreen > 150, "linear 100 shown in sRGB is about 169, got " + fullGreen);
        assertTrue(Math.abs(fullGreen - reducedGreen) <= 1, fullGreen + " at full size, " + reducedGreen + " reduced");
    }

    private static byte[] bytes(String name) throws IOException {
        try (InputStream in = ScaledJpegDecoderTest.class.getResourceAsStream("/jpeg/" + name)) {
            return in.readAllBytes();
        }
    }

    private static BufferedImage read(String name) throws IOException {
        try (InputStream in = ScaledJpegDecoderTest.class.getResourceAsStream("/jpeg/" + name)) {
            return ImageIO.read(in);
        }
    }
}
