package dev.petal.localstack.pipeline;

import dev.petal.common.records.ValidSplit;
import dev.petal.common.inference.Prediction;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Accuracy, per-class accuracy and the confusion matrix of one scoring round. */
final class DemoResults {
    /** One scored image: its truth, its prediction, and the image for the report. */
    record Scored(String key, ValidSplit.Image image, Prediction prediction) {
        boolean correct() {
            return image.label().equals(prediction.label());
        }
    }

    final List<String> labels;
    final List<Scored> scored = new ArrayList<>();
    final int[][] confusion;

    DemoResults(Map<String, ValidSplit.Image> sent, ScoringRound.Answers answers) {
        TreeSet<String> names = new TreeSet<>();
        sent.values().forEach(i -> names.add(i.label()));
        answers.predictions().values().forEach(p -> names.add(p.label()));
        labels = List.copyOf(names);
        confusion = new int[labels.size()][labels.size()];
        for (Map.Entry<String, Prediction> e : answers.predictions().entrySet()) {
            Scored s = new Scored(e.getKey(), sent.get(e.getKey()), e.getValue());
            scored.add(s);
            confusion[labels.indexOf(s.image().label())][labels.indexOf(s.prediction().label())]++;
        }
    }

    double accuracy() {
        return scored.isEmpty() ? 0 : (double) scored.stream().filter(Scored::correct).count() / scored.size();
    }

    double classAccuracy(int label) {
        int total = 0;
        for (int p = 0; p < labels.size(); p++) {
            total += confusion[label][p];
        }
        return total == 0 ? 0 : (double) confusion[label][label] / total;
    }

    int classCount(int label) {
        int total = 0;
        for (int p = 0; p < labels.size(); p++) {
            total += confusion[label][p];
        }
        return total;
    }

    void print(PrintStream out) {
        out.printf("%naccuracy %.1f%% on %d images%n", 100 * accuracy(), scored.size());
        out.println("per class:");
        for (int i = 0; i < labels.size(); i++) {
            out.printf("  %-12s %5.1f%%  (%d images)%n", labels.get(i), 100 * classAccuracy(i), classCount(i));
        }
        out.println("confusion matrix (rows: true label, columns: predicted):");
        StringBuilder header = new StringBuilder(String.format("  %-12s", ""));
        labels.forEach(l -> header.append(String.format(" %9s", abbreviate(l))));
        out.println(header);
        for (int i = 0; i < labels.size(); i++) {
            StringBuilder row = new StringBuilder(String.format("  %-12s", labels.get(i)));
            for (int p = 0; p < labels.size(); p++) {
                row.append(String.format(" %9d", confusion[i][p]));
            }
            out.println(row);
        }
        out.println("samples:");
        for (Scored s : samples(6)) {
            out.printf("  %-40s true %-10s predicted %-10s (%.2f)%n", abbreviate(s.image().source() == null ? s.key() : s.image().source(), 40),
                    s.image().label(), s.prediction().label(), s.prediction().score());
        }
    }

    /** A few of each: correct and wrong, spread over the classes. */
    List<Scored> samples(int n) {
        List<Scored> picked = new ArrayList<>();
        List<Scored> wrong = scored.stream().filter(s -> !s.correct()).toList();
        List<Scored> right = scored.stream().filter(Scored::correct).toList();
        int step = Math.max(1, right.size() / Math.max(1, n - n / 3));
        for (int i = 0; i < right.size() && picked.size() < n - Math.min(n / 3, wrong.size()); i += step) {
            picked.add(right.get(i));
        }
        for (int i = 0; i < wrong.size() && picked.size() < n; i += Math.max(1, wrong.size() / Math.max(1, n / 3))) {
            picked.add(wrong.get(i));
        }
        return picked;
    }

    private static String abbreviate(String s) {
        return abbreviate(s, 9);
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : "..." + s.substring(s.length() - max + 3);
    }
}
