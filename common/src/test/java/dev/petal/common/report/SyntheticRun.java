package dev.petal.common.report;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** A made-up training run with what makes reports hard to read: a loss over decades, one wild epoch, counts from JSON. */
final class SyntheticRun {
    static final List<String> LABELS = List.of("daisy", "dandelion", "rose", "sunflower", "tulip");
    static final int STEPS = 400;

    private SyntheticRun() {}

    /** Four epochs; epoch 2's valid loss is 50 (a diverged evaluation); counts are doubles, as JSON reads them back. */
    static List<Map<String, Object>> epochs() {
        double[] trainLoss = {1.42, 0.91, 0.63, 0.47};
        double[] validLoss = {1.21, 50.0, 0.71, 0.58};
        double[] trainAccuracy = {0.412, 0.655, 0.771, 0.836};
        double[] validAccuracy = {0.483, 0.201, 0.702, 0.754};
        double[] imagesPerSecond = {88.4, 101.7, 102.3, 99.8};
        List<Map<String, Object>> epochs = new ArrayList<>();
        for (int e = 0; e < 4; e++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("trainLoss", trainLoss[e]);
            m.put("trainAccuracy", trainAccuracy[e]);
            m.put("trainImages", 3454.0);
            m.put("imagesPerSecond", imagesPerSecond[e]);
            m.put("steadyImagesPerSecond", imagesPerSecond[e] * 1.04);
            m.put("skippedImages", 0.0);
            m.put("validLoss", validLoss[e]);
            m.put("validAccuracy", validAccuracy[e]);
            m.put("validImages", 202.0);
            m.put("epoch", e + 1);
            epochs.add(m);
        }
        return epochs;
    }

    /** {@link #STEPS} steps of a loss falling from about 2.5 to about 0.003, noisy, under the seed recipe's schedule. */
    static StepCurve steps() {
        StepCurve curve = new StepCurve();
        Random random = new Random(7);
        for (int step = 1; step <= STEPS; step++) {
            double loss = (2.5 * Math.exp(-step / 55.0) + 0.003) * Math.exp(0.35 * random.nextGaussian());
            curve.add(step, loss, rateAt(step - 1));
        }
        return curve;
    }

    /** A linear warm-up over 20 steps from 1% of 1e-3, then a cosine decay to 0: the seed recipe's shape. */
    static double rateAt(int step) {
        double base = 1e-3;
        int warmup = 20;
        if (step < warmup) {
            return base * (0.01 + 0.99 * step / warmup);
        }
        return base * 0.5 * (1 + Math.cos(Math.PI * (step - warmup) / (STEPS - warmup)));
    }

    static int[][] confusion() {
        return new int[][] {
            {31, 2, 1, 3, 1},
            {3, 45, 0, 4, 1},
            {1, 0, 27, 1, 9},
            {2, 3, 1, 36, 0},
            {0, 1, 10, 1, 19},
        };
    }

    static TrainingReport.Validation validation() {
        List<ClassifiedImage> wrong = List.of(
                new ClassifiedImage(Thumbnail.jpegDataUri(flower(new Color(220, 40, 90), 1), Thumbnail.SIZE), "rose", "tulip", 0.81),
                new ClassifiedImage(Thumbnail.jpegDataUri(flower(new Color(245, 200, 20), 2), Thumbnail.SIZE), "dandelion", "sunflower",
                        0.57));
        return new TrainingReport.Validation(4, LABELS, confusion(), wrong);
    }

    /** A 160 px picture of petals round a centre, seeded. */
    static BufferedImage flower(Color petals, long seed) {
        BufferedImage image = new BufferedImage(160, 160, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(new Color(70, 130, 60));
        g.fillRect(0, 0, 160, 160);
        Random random = new Random(seed);
        g.setColor(petals);
        for (int i = 0; i < 8; i++) {
            double a = i * Math.PI / 4 + random.nextDouble() * 0.2;
            g.fillOval((int) (80 + 38 * Math.cos(a)) - 18, (int) (80 + 38 * Math.sin(a)) - 18, 36, 36);
        }
        g.setColor(new Color(120, 80, 20));
        g.fillOval(62, 62, 36, 36);
        g.dispose();
        return image;
    }
}
