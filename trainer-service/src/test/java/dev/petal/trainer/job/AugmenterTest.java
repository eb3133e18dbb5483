package dev.petal.trainer.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import org.junit.jupiter.api.Test;

class AugmenterTest {
    /** A horizontal ramp in red, a vertical one in green, constant blue. */
    private static BufferedImage ramp(int w, int h) {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                image.setRGB(x, y, ((x * 255 / (w - 1)) << 16) | ((y * 255 / (h - 1)) << 8) | 128);
            }
        }
        return image;
    }

    private static int[] pixels(BufferedImage image) {
        return ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
    }

    @Test
    void theSameSeedEpochAndSampleGiveTheSameImageAndOthersDiffer() {
        Augmenter augmenter = new Augmenter(0.3f, 0.3f);
        BufferedImage source = ramp(200, 150);
        int[] first = pixels(augmenter.apply(source, 64, 7, 3, 11));
        assertArrayEquals(first, pixels(augmenter.apply(source, 64, 7, 3, 11)));
        assertFalse(java.util.Arrays.equals(first, pixels(augmenter.apply(source, 64, 7, 4, 11))), "another epoch, another crop");
    }

    @Test
    void cropsStayWithinTheScaleAndComeOutAtTheModelsSize() {
        BufferedImage out = new Augmenter(1f, 0f).apply(ramp(120, 120), 48, 1, 0, 0);
        assertEquals(48, out.getWidth());
        assertEquals(48, out.getHeight());
        // Scale 1 of a square image with ratio 1 at most 4/3: the crop spans the whole width or height, so the
        // red ramp still reaches from near 0 to near 255 across the output (flipped or not).
        int[] p = pixels(out);
        int left = (p[24 * 48] >> 16) & 0xFF;
        int right = (p[24 * 48 + 47] >> 16) & 0xFF;
        assertTrue(Math.abs(left - right) > 150, left + " .. " + right);
    }

    @Test
    void withoutJitterTheColoursAreTheSourcesAndWithItTheyMove() {
        BufferedImage flat = new BufferedImage(50, 50, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 2500; i++) {
            flat.setRGB(i % 50, i / 50, (100 << 16) | (150 << 8) | 200);
        }
        for (int p : pixels(new Augmenter(0.5f, 0f).apply(flat, 32, 3, 0, 0))) {
            assertEquals((100 << 16) | (150 << 8) | 200, p);
        }
        int moved = 0;
        for (int sample = 0; sample < 10; sample++) {
            int p = pixels(new Augmenter(0.5f, 0.3f).apply(flat, 32, 3, 0, sample))[0];
            moved += p != ((100 << 16) | (150 << 8) | 200) ? 1 : 0;
        }
        assertTrue(moved >= 9, "jitter changes the colours: " + moved + " of 10");
    }
}
