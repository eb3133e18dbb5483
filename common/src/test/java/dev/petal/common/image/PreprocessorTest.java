package dev.petal.common.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.util.Random;
import org.junit.jupiter.api.Test;

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
}
