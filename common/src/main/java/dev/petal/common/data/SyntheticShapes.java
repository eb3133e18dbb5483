package dev.petal.common.data;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Random;

/**
 * A small generated image task for tests and for the demo when no dataset is at hand: one shape
 * per image (the label), drawn in a random colour at a random place and size on a noisy background.
 * Colour carries no information, so a model must learn the shapes.
 */
public final class SyntheticShapes {
    public static final List<String> LABELS = List.of("circle", "cross", "square", "triangle");

    private final int size;
    private final Random random;

    public SyntheticShapes(int size, long seed) {
        this.size = size;
        this.random = new Random(seed);
    }

    /** One labelled image. */
    public record Sample(BufferedImage image, int label) {
        public String labelName() {
            return LABELS.get(label);
        }
    }

    public Sample next() {
        int label = random.nextInt(LABELS.size());
        return new Sample(draw(label), label);
    }

    public BufferedImage draw(int label) {
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            int base = random.nextInt(80);
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int v = Math.min(255, base + random.nextInt(40));
                    image.setRGB(x, y, (v << 16) | (v << 8) | v);
                }
            }
            g.setColor(Color.getHSBColor(random.nextFloat(), 0.6f + 0.4f * random.nextFloat(), 0.8f + 0.2f * random.nextFloat()));
            int extent = size / 2 + random.nextInt(Math.max(1, size / 4));
            int x0 = random.nextInt(Math.max(1, size - extent));
            int y0 = random.nextInt(Math.max(1, size - extent));
            switch (LABELS.get(label)) {
                case "circle" -> g.fillOval(x0, y0, extent, extent);
                case "square" -> g.fillRect(x0, y0, extent, extent);
                case "triangle" -> g.fillPolygon(new Polygon(
                        new int[] {x0, x0 + extent, x0 + extent / 2},
                        new int[] {y0 + extent, y0 + extent, y0}, 3));
                case "cross" -> {
                    g.setStroke(new BasicStroke(Math.max(2f, extent / 5f)));
                    g.drawLine(x0, y0, x0 + extent, y0 + extent);
                    g.drawLine(x0 + extent, y0, x0, y0 + extent);
                }
                default -> throw new IllegalStateException("no drawing for label " + label);
            }
        } finally {
            g.dispose();
        }
        return image;
    }
}
