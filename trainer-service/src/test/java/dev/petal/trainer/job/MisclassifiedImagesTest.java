package dev.petal.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.image.Normalization;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.report.ClassifiedImage;
import dev.petal.common.report.TrainingReport;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** The evaluation's sample of misclassified images: bounded, right labels and scores, thumbnails of what the model saw. */
class MisclassifiedImagesTest {
    private static final List<String> LABELS = List.of("cat", "dog");
    private static final Preprocessor PREPROCESSOR = new Preprocessor(32, Normalization.IMAGENET);

    @Test
    void keepsAtMostTheLimitOfTheWrongOnesWithLabelsScoresAndThumbnails() throws Exception {
        Evaluation eval = new Evaluation(LABELS, new MisclassifiedImages(24, PREPROCESSOR, LABELS, 1));
        int batch = 10;
        for (int b = 0; b < 30; b++) { // 300 images, every other one wrong
            float[] pixels = new float[batch * PREPROCESSOR.tensorLength()];
            float[][] logits = new float[batch][];
            int[] targets = new int[batch];
            for (int i = 0; i < batch; i++) {
                targets[i] = 0; // all cats
                boolean wrong = i % 2 == 0;
                logits[i] = wrong ? new float[] {0f, (float) Math.log(3)} : new float[] {2f, 0f}; // wrong: dog at 0.75
                PREPROCESSOR.toTensor(solid(wrong ? Color.RED : Color.BLUE), pixels, i * PREPROCESSOR.tensorLength());
            }
            eval.add(logits, targets, batch, pixels);
        }
        assertEquals(0.5, eval.accuracy(), 1e-9);
        TrainingReport.Validation validation = eval.forReport(3);
        assertEquals(150, validation.confusion()[0][1]);
        List<ClassifiedImage> sample = validation.misclassified();
        assertEquals(24, sample.size());
        for (ClassifiedImage image : sample) {
            assertEquals("cat", image.trueLabel());
            assertEquals("dog", image.predictedLabel());
            assertEquals(0.75, image.score(), 1e-6);
            assertTrue(image.thumbnail().startsWith("data:image/jpeg;base64,"), image.thumbnail());
            BufferedImage thumbnail = ImageIO.read(new ByteArrayInputStream(
                    Base64.getDecoder().decode(image.thumbnail().substring("data:image/jpeg;base64,".length()))));
            assertEquals(32, thumbnail.getWidth(), "never enlarged past the model's input");
            Color centre = new Color(thumbnail.getRGB(16, 16));
            assertTrue(centre.getRed() > 200 && centre.getBlue() < 60, "the misclassified (red) image, denormalised: " + centre);
        }
    }

    @Test
    void theSampleIsSpreadOverTheWholeSplitNotItsStart() {
        MisclassifiedImages sample = new MisclassifiedImages(24, PREPROCESSOR, LABELS, 5);
        float[] pixels = new float[PREPROCESSOR.tensorLength()];
        Set<Double> scores = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            sample.offer(pixels, 0, 0, 1, i / 1000.0); // the score marks where the image came
        }
        sample.sample().forEach(image -> scores.add(image.score()));
        assertEquals(24, scores.size());
        assertTrue(scores.stream().filter(s -> s >= 0.5).count() >= 4, "some from the second half: " + scores);
    }

    private static BufferedImage solid(Color colour) {
        BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                image.setRGB(x, y, colour.getRGB());
            }
        }
        return image;
    }
}
