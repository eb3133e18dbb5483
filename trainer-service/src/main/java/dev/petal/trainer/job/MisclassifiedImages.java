package dev.petal.trainer.job;

import dev.petal.common.image.Preprocessor;
import dev.petal.common.report.ClassifiedImage;
import dev.petal.common.report.Thumbnail;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A uniform random sample of at most {@code limit} of the valid images the model got wrong, as report
 * thumbnails of the pixels it saw (reservoir sampling: memory stays at {@code limit} small JPEGs
 * however large the split, and a thumbnail is made only for an image that enters the sample).
 */
final class MisclassifiedImages {
    static final int DEFAULT_LIMIT = 24;

    private final int limit;
    private final Preprocessor preprocessor;
    private final List<String> labels;
    private final Random random;
    private final List<ClassifiedImage> sample = new ArrayList<>();
    private long offered;

    MisclassifiedImages(int limit, Preprocessor preprocessor, List<String> labels, long seed) {
        this.limit = limit;
        this.preprocessor = preprocessor;
        this.labels = labels;
        this.random = new Random(seed);
    }

    /** One misclassified image: the {@code row}-th of a batch's NCHW {@code pixels}. */
    void offer(float[] pixels, int row, int trueLabel, int predictedLabel, double score) {
        offered++;
        int slot = sample.size() < limit ? sample.size() : (int) Math.min(limit, random.nextLong(offered));
        if (slot >= limit) {
            return;
        }
        String thumbnail = Thumbnail.jpegDataUri(preprocessor.toImage(pixels, row * preprocessor.tensorLength()), Thumbnail.SIZE);
        ClassifiedImage image = new ClassifiedImage(thumbnail, labels.get(trueLabel), labels.get(predictedLabel), score);
        if (slot == sample.size()) {
            sample.add(image);
        } else {
            sample.set(slot, image);
        }
    }

    List<ClassifiedImage> sample() {
        return List.copyOf(sample);
    }
}
