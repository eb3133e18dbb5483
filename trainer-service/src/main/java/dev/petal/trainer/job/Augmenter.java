package dev.petal.trainer.job;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.SplittableRandom;

/**
 * torchvision's RandomResizedCrop(scale 0.08-1, ratio 3/4-4/3) + RandomHorizontalFlip, on a
 * random stream seeded per (seed, epoch, sample): the same run gives the same crops whatever the
 * thread that decodes them.
 */
final class Augmenter {
    private Augmenter() {}

    static BufferedImage apply(BufferedImage image, long seed, int epoch, int sampleIndex) {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + epoch * 7_919L + sampleIndex);
        int w = image.getWidth();
        int h = image.getHeight();
        int cw = w;
        int ch = h;
        int x = 0;
        int y = 0;
        for (int attempt = 0; attempt < 10; attempt++) {
            double area = w * (double) h * (0.08 + random.nextDouble() * 0.92);
            double logRatio = Math.log(3.0 / 4) + random.nextDouble() * (Math.log(4.0 / 3) - Math.log(3.0 / 4));
            double ratio = Math.exp(logRatio);
            int tw = (int) Math.round(Math.sqrt(area * ratio));
            int th = (int) Math.round(Math.sqrt(area / ratio));
            if (tw > 0 && th > 0 && tw <= w && th <= h) {
                cw = tw;
                ch = th;
                x = random.nextInt(w - cw + 1);
                y = random.nextInt(h - ch + 1);
                break;
            }
        }
        boolean flip = random.nextBoolean();
        BufferedImage out = new BufferedImage(cw, ch, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
            if (flip) {
                g.drawImage(image, 0, 0, cw, ch, x + cw, y, x, y + ch, null);
            } else {
                g.drawImage(image, 0, 0, cw, ch, x, y, x + cw, y + ch, null);
            }
        } finally {
            g.dispose();
        }
        return out;
    }
}
