package dev.petal.common.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PreprocessorTest {
    @Test
    void toImageUndoesToTensor() {
        Preprocessor preprocessor = new Preprocessor(16, Normalization.IMAGENET);
        BufferedImage image = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        Random random = new Random(3);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        float[] tensor = new float[2 * preprocessor.tensorLength()];
        preprocessor.toTensor(image, tensor, preprocessor.tensorLength()); // the second image of a batch
        BufferedImage back = preprocessor.toImage(tensor, preprocessor.tensorLength());
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                assertEquals(image.getRGB(x, y), back.getRGB(x, y), "pixel " + x + "," + y);
            }
        }
    }

    /**
     * The one-pass resize against the JDK's own: Java2D's bilinear drawImage ({@link Preprocessor#toRgb}), for
     * the layouts it takes (JPEG's BGR bytes, packed ints) and sizes down, up, odd and equal. Java2D weighs
     * neighbours in 8-bit fixed point, so single levels may differ, rarely two.
     */
    @ParameterizedTest
    @CsvSource({"500,375,224", "320,240,224", "224,224,224", "100,37,224", "4000,3000,224", "61,997,96"})
    void resizesAsJava2dDoes(int width, int height, int size) {
        Preprocessor preprocessor = new Preprocessor(size, Normalization.IMAGENET);
        for (int type : new int[] {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_INT_RGB}) {
            BufferedImage image = smoothNoise(width, height, type);
            float[] tensor = new float[preprocessor.tensorLength()];
            preprocessor.toTensor(image, tensor, 0);
            int[] java2d = ((DataBufferInt) preprocessor.toRgb(image).getRaster().getDataBuffer()).getData();
            int[] ours = ((DataBufferInt) preprocessor.toImage(tensor, 0).getRaster().getDataBuffer()).getData();
            int worst = 0;
            long differing = 0;
            for (int i = 0; i < java2d.length; i++) {
                for (int shift = 0; shift < 24; shift += 8) {
                    int d = Math.abs(((java2d[i] >> shift) & 0xFF) - ((ours[i] >> shift) & 0xFF));
                    worst = Math.max(worst, d);
                    differing += d == 0 ? 0 : 1;
                }
            }
            String what = width + "x" + height + " type " + type + " to " + size;
            assertTrue(worst <= 2, what + ": off by " + worst + " levels");
            assertTrue(differing <= java2d.length * 3 / 10, what + ": " + differing + " samples differ");
        }
    }

    @Test
    void subimagesAndCopiesOfThemGiveTheSameTensor() {
        Preprocessor preprocessor = new Preprocessor(32, Normalization.IMAGENET);
        BufferedImage whole = smoothNoise(120, 90, BufferedImage.TYPE_3BYTE_BGR);
        BufferedImage part = whole.getSubimage(10, 20, 64, 48); // shares whole's array at an offset: the Java2D route
        BufferedImage copy = new BufferedImage(64, 48, BufferedImage.TYPE_3BYTE_BGR);
        copy.getGraphics().drawImage(part, 0, 0, null);
        float[] fromPart = preprocessor.toTensor(part);
        float[] fromCopy = preprocessor.toTensor(copy);
        float level = 1f / (255f * 0.225f);
        for (int i = 0; i < fromPart.length; i++) {
            assertTrue(Math.abs(fromPart[i] - fromCopy[i]) <= 2 * level + 1e-5f, "sample " + i);
        }
    }

    /** Colour that varies over a few pixels, as photos do, so interpolation weights show in every sample. */
    private static BufferedImage smoothNoise(int width, int height, int type) {
        BufferedImage image = new BufferedImage(width, height, type);
        Random random = new Random(width * 31L + height);
        double[] phase = {random.nextDouble() * 6, random.nextDouble() * 6, random.nextDouble() * 6};
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = 0;
                for (int c = 0; c < 3; c++) {
                    double v = 127.5 + 90 * Math.sin(x * (0.11 + 0.05 * c) + phase[c]) * Math.cos(y * 0.07 + phase[c])
                            + random.nextInt(40) - 20;
                    rgb = (rgb << 8) | (int) Math.max(0, Math.min(255, Math.round(v)));
                }
                image.setRGB(x, y, rgb);
            }
        }
        return image;
    }
}
