package dev.petal.common.report;

/**
 * An image as a report shows it: its thumbnail ({@link Thumbnail#jpegDataUri}), its true label, and
 * what the model predicted with which score (softmax probability).
 */
public record ClassifiedImage(String thumbnail, String trueLabel, String predictedLabel, double score) {
    public boolean correct() {
        return trueLabel.equals(predictedLabel);
    }
}
