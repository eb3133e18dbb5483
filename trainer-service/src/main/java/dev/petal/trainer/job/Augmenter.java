package dev.petal.trainer.job;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.SplittableRandom;

/**
 * torchvision's training augmentation, in its order: RandomResizedCrop(size, scale=(minCropScale, 1),
 * ratio=(3/4, 4/3)), RandomHorizontalFlip, then ColorJitter(brightness, contrast, saturation = jitter),
 * on a random stream seeded per (seed, epoch, sample): the same run gives the same images whatever the
 * thread that decodes them.
 *
 * @param minCropScale the smallest crop, as a fraction of the image's area (torchvision's default 0.08)
 * @param colourJitter each of brightness, contrast and saturation is scaled by a factor drawn from
 *        [1 - jitter, 1 + jitter] (0: none)
 */
record Augmenter(float minCropScale, float colourJitter) {

    /** The augmented {@code size x size} RGB image of {@code image} (any RGB type). */
    BufferedImage apply(BufferedImage image, int size, long seed, int epoch, int sampleIndex) {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + epoch * 7_919L + sampleIndex);
        int w = image.getWidth();
        int h = image.getHeight();
        int cw = w;
        int ch = h;
        int x = 0;
        int y = 0;
        boolean found = false;
        for (int attempt = 0; attempt < 10 && !found; attempt++) {
            double area = w * (double) h * (minCropScale + random.nextDouble() * (1 - minCropScale));
            double logRatio = Math.log(3.0 / 4) + random.nextDouble() * (Math.log(4.0 / 3) - Math.log(3.0 / 4));
            double ratio = Math.exp(logRatio);
            int tw = (int) Math.round(Math.sqrt(area * ratio));
            int th = (int) Math.round(Math.sqrt(area / ratio));
            if (tw > 0 && th > 0 && tw <= w && th <= h) {
                cw = tw;
                ch = th;
                x = random.nextInt(w - cw + 1);
                y = random.nextInt(h - ch + 1);
                found = true;
            }
        }
        if (!found) { // torchvision's fallback: the central crop of the nearest allowed ratio
            double ratio = w / (double) h;
            if (ratio < 3.0 / 4) {
                ch = (int) Math.round(w / (3.0 / 4));
            } else if (ratio > 4.0 / 3) {
                cw = (int) Math.round(h * (4.0 / 3));
            }
            x = (w - cw) / 2;
            y = (h - ch) / 2;
        }
        boolean flip = random.nextBoolean();
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            if (flip) {
                g.drawImage(image, 0, 0, size, size, x + cw, y, x, y + ch, null);
            } else {
                g.drawImage(image, 0, 0, size, size, x, y, x + cw, y + ch, null);
            }
        } finally {
            g.dispose();
        }
        if (colourJitter > 0) {
            jitter(((DataBufferInt) out.getRaster().getDataBuffer()).getData(), random);
        }
        return out;
    }

    /**
     * Brightness, contrast and saturation, each by a factor in [1 - jitter, 1 + jitter], as torchvision's ColorJitter blends
     * them. In floats, with the image's channels in one buffer: this runs for every training image of every epoch.
     */
    private void jitter(int[] pixels, SplittableRandom random) {
        float brightness = (float) factor(random);
        float contrast = (float) factor(random);
        float saturation = (float) factor(random);
        int n = pixels.length;
        float[] rgb = new float[3 * n];
        double graySum = 0;
        for (int i = 0; i < n; i++) {
            int p = pixels[i];
            float r = clamp(((p >> 16) & 0xFF) * brightness);
            float g = clamp(((p >> 8) & 0xFF) * brightness);
            float b = clamp((p & 0xFF) * brightness);
            rgb[3 * i] = r;
            rgb[3 * i + 1] = g;
            rgb[3 * i + 2] = b;
            graySum += gray(r, g, b);
        }
        float mean = (float) (graySum / n);
        for (int i = 0; i < n; i++) {
            float r = clamp(mean + (rgb[3 * i] - mean) * contrast);
            float g = clamp(mean + (rgb[3 * i + 1] - mean) * contrast);
            float b = clamp(mean + (rgb[3 * i + 2] - mean) * contrast);
            float gray = gray(r, g, b);
            int rr = Math.round(clamp(gray + (r - gray) * saturation));
            int gg = Math.round(clamp(gray + (g - gray) * saturation));
            int bb = Math.round(clamp(gray + (b - gray) * saturation));
            pixels[i] = (rr << 16) | (gg << 8) | bb;
        }
    }

    private double factor(SplittableRandom random) {
        return 1 - colourJitter + random.nextDouble() * 2 * colourJitter;
    }

    /** ITU-R 601 luma, as torchvision's rgb_to_grayscale. */
    private static float gray(float r, float g, float b) {
        return 0.299f * r + 0.587f * g + 0.114f * b;
    }

    private static float clamp(float v) {
        return v < 0f ? 0f : v > 255f ? 255f : v;
    }
}
