package dev.petal.trainer.job;

import dev.petal.common.model.ActivationRanges;
import dev.petal.common.report.TrainingReport;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loss, top-1 accuracy, per-class accuracy and confusion matrix over a split, from logits; and, for the
 * report, a bounded sample of the images it got wrong; and the int8 calibration measured in the same pass.
 */
final class Evaluation {
    private final int[][] confusion;
    private ActivationRanges activationRanges;
    private final List<String> labels;
    private final MisclassifiedImages misclassified;
    private double lossSum;
    private int count;

    /** {@code misclassified} collects thumbnails of wrong predictions (null: none). */
    Evaluation(List<String> labels, MisclassifiedImages misclassified) {
        this.labels = labels;
        this.confusion = new int[labels.size()][labels.size()];
        this.misclassified = misclassified;
    }

    /** The int8 calibration measured on the split's first images (null until set). */
    ActivationRanges activationRanges() {
        return activationRanges;
    }

    void activationRanges(ActivationRanges ranges) {
        this.activationRanges = ranges;
    }

    /**
     * Adds a batch: cross-entropy of each row of logits against its label. Its NCHW {@code pixels}
     * (null: none) give the misclassified images' thumbnails.
     */
    void add(float[][] logits, int[] targets, int n, float[] pixels) {
        for (int i = 0; i < n; i++) {
            float[] row = logits[i];
            float max = Float.NEGATIVE_INFINITY;
            int best = 0;
            for (int c = 0; c < row.length; c++) {
                if (row[c] > max) {
                    max = row[c];
                    best = c;
                }
            }
            double sum = 0;
            for (float v : row) {
                sum += Math.exp(v - max);
            }
            lossSum += Math.log(sum) + max - row[targets[i]];
            confusion[targets[i]][best]++;
            count++;
            if (best != targets[i] && misclassified != null && pixels != null) {
                misclassified.offer(pixels, i, targets[i], best, 1 / sum); // softmax of the top class
            }
        }
    }

    int count() {
        return count;
    }

    double loss() {
        return count == 0 ? Double.NaN : lossSum / count;
    }

    double accuracy() {
        int right = 0;
        for (int c = 0; c < confusion.length; c++) {
            right += confusion[c][c];
        }
        return count == 0 ? Double.NaN : (double) right / count;
    }

    Map<String, Double> perClassAccuracy() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int c = 0; c < confusion.length; c++) {
            int total = 0;
            for (int v : confusion[c]) {
                total += v;
            }
            out.put(labels.get(c), total == 0 ? null : (double) confusion[c][c] / total);
        }
        return out;
    }

    int[][] confusion() {
        return confusion;
    }

    /** What the report shows of this evaluation, after {@code epoch}. */
    TrainingReport.Validation forReport(int epoch) {
        return new TrainingReport.Validation(epoch, labels, confusion, misclassified == null ? List.of() : misclassified.sample());
    }

    String confusionTable() {
        StringBuilder t = new StringBuilder(String.format("%-12s", "true\\pred"));
        labels.forEach(l -> t.append(String.format(" %8.8s", l)));
        for (int r = 0; r < confusion.length; r++) {
            t.append(String.format("%n%-12.12s", labels.get(r)));
            for (int v : confusion[r]) {
                t.append(String.format(" %8d", v));
            }
        }
        return t.toString();
    }
}
