package dev.petal.common.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The report a training run stores beside each checkpoint: per-step loss and learning rate, loss,
 * accuracy and images/s per epoch, the epoch table, and the valid split's confusion matrix with a
 * sample of the images it got wrong. {@link #trainingSection} is also the demo report's training part.
 *
 * <p>An epoch is the map of metrics the trainer keeps in {@code metrics.json} ({@code epoch},
 * {@code trainLoss}, {@code trainAccuracy}, {@code validLoss}, {@code validAccuracy}, ...).
 */
public final class TrainingReport {
    /** The valid split as evaluated for this checkpoint; {@code misclassified} is a bounded sample. */
    public record Validation(int epoch, List<String> labels, int[][] confusion, List<ClassifiedImage> misclassified) {}

    private enum Kind { COUNT, PERCENT, DECIMAL, RATE }

    private record Column(String header, String key, Kind kind) {}

    private static final List<Column> EPOCH_COLUMNS = List.of(
            new Column("train images", "trainImages", Kind.COUNT),
            new Column("train px", "trainImageSize", Kind.COUNT),
            new Column("train loss", "trainLoss", Kind.DECIMAL),
            new Column("train accuracy", "trainAccuracy", Kind.PERCENT),
            new Column("valid images", "validImages", Kind.COUNT),
            new Column("valid loss", "validLoss", Kind.DECIMAL),
            new Column("valid accuracy", "validAccuracy", Kind.PERCENT),
            new Column("images/s", "imagesPerSecond", Kind.RATE),
            new Column("steady images/s", "steadyImagesPerSecond", Kind.RATE),
            new Column("skipped images", "skippedImages", Kind.COUNT));

    private TrainingReport() {}

    /**
     * The whole page. {@code validation} is null for a checkpoint taken in the middle of an epoch,
     * before the valid split was evaluated.
     */
    public static String html(String model, String version, List<Map<String, Object>> epochs, StepCurve steps,
                              Validation validation) {
        StringBuilder body = new StringBuilder("<h1>").append(ReportPage.escape(model)).append(' ')
                .append(ReportPage.escape(version)).append("</h1>").append(summary(epochs, steps));
        body.append(trainingSection(epochs, steps));
        if (validation != null) {
            body.append(validationSection(validation));
        } else {
            body.append("<p class=\"note\">Taken during an epoch: the valid split is evaluated at the end of each epoch.</p>");
        }
        return ReportPage.document(model + " " + version, body.toString());
    }

    private static String summary(List<Map<String, Object>> epochs, StepCurve steps) {
        StringBuilder p = new StringBuilder("<p>");
        p.append(epochs.size()).append(epochs.size() == 1 ? " epoch" : " epochs");
        StepCurve.Points points = steps.points();
        if (points.size() > 0) {
            p.append(", ").append(Formats.count(points.steps()[points.size() - 1])).append(" steps");
        }
        if (!epochs.isEmpty()) {
            Map<String, Object> last = epochs.get(epochs.size() - 1);
            p.append(". Last epoch: valid accuracy <b>").append(Formats.percent(number(last, "validAccuracy")))
                    .append("</b>, valid loss ").append(Formats.decimal(number(last, "validLoss")))
                    .append(", train loss ").append(Formats.decimal(number(last, "trainLoss")));
        }
        return p.append(".</p>").toString();
    }

    /** Curves per step and per epoch, and the epoch table. */
    public static String trainingSection(List<Map<String, Object>> epochs, StepCurve steps) {
        StringBuilder html = new StringBuilder("<h2>Training</h2>");
        if (epochs.isEmpty() && steps.isEmpty()) {
            return html.append("<p class=\"note\">No training history yet.</p>").toString();
        }
        html.append("<div class=\"charts\">");
        StepCurve.Points points = steps.points();
        if (points.size() > 0) {
            double[] x = new double[points.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = points.steps()[i];
            }
            LineChart loss = new LineChart("Training loss per step", "step", "loss");
            int window = Math.max(1, points.size() / 25);
            if (window > 1) {
                loss.faintLine("loss", x, points.loss()).line("mean of " + window + " points", x, movingMean(points.loss(), window));
            } else {
                loss.line("loss", x, points.loss());
            }
            html.append(loss.wholeNumbersOnX().html());
            // Linear: a schedule that warms up and decays to zero reads as designed on a linear axis.
            html.append(new LineChart("Learning rate per step", "step", "learning rate").linearY().wholeNumbersOnX()
                    .line("learning rate", x, points.learningRate()).html());
        }
        if (!epochs.isEmpty()) {
            double[] x = series(epochs, m -> number(m, "epoch"));
            for (int i = 0; i < x.length; i++) {
                x[i] = Double.isFinite(x[i]) ? x[i] : i + 1;
            }
            html.append(new LineChart("Loss per epoch", "epoch", "loss").wholeNumbersOnX()
                    .line("train", x, series(epochs, m -> number(m, "trainLoss")))
                    .line("valid", x, series(epochs, m -> number(m, "validLoss"))).html());
            html.append(new LineChart("Accuracy per epoch", "epoch", "accuracy (%)").wholeNumbersOnX().yRange(0, 100)
                    .line("train", x, series(epochs, m -> 100 * number(m, "trainAccuracy")))
                    .line("valid", x, series(epochs, m -> 100 * number(m, "validAccuracy"))).html());
            LineChart speed = new LineChart("Training speed per epoch", "epoch", "images/s").wholeNumbersOnX()
                    .line("whole epoch", x, series(epochs, m -> number(m, "imagesPerSecond")));
            if (epochs.stream().anyMatch(m -> m.containsKey("steadyImagesPerSecond"))) {
                speed.line("after warm-up", x, series(epochs, m -> number(m, "steadyImagesPerSecond")));
            }
            html.append(speed.html());
        }
        html.append("</div>");
        if (steps.stepsPerPoint() > 1) {
            html.append("<p class=\"note\">Each point of the step curves is the mean of ").append(steps.stepsPerPoint())
                    .append(" steps.</p>");
        }
        if (!epochs.isEmpty()) {
            html.append(epochTable(epochs));
        }
        return html.toString();
    }

    private static String epochTable(List<Map<String, Object>> epochs) {
        List<Column> columns = EPOCH_COLUMNS.stream().filter(c -> epochs.stream().anyMatch(m -> m.get(c.key()) != null)).toList();
        List<String> headers = new ArrayList<>();
        headers.add("epoch");
        columns.forEach(c -> headers.add(c.header()));
        DataTable table = new DataTable(headers);
        for (int i = 0; i < epochs.size(); i++) {
            Map<String, Object> m = epochs.get(i);
            List<DataTable.Cell> cells = new ArrayList<>();
            double epoch = number(m, "epoch");
            cells.add(DataTable.Cell.number(Formats.count(Double.isFinite(epoch) ? epoch : i + 1)));
            for (Column c : columns) {
                double v = number(m, c.key());
                cells.add(DataTable.Cell.number(switch (c.kind()) {
                    case COUNT -> Formats.count(v);
                    case PERCENT -> Formats.percent(v);
                    case DECIMAL -> Formats.decimal(v);
                    case RATE -> Formats.rate(v);
                }));
            }
            table.row(cells);
        }
        return table.html();
    }

    private static String validationSection(Validation v) {
        StringBuilder html = new StringBuilder("<h2>Validation after epoch ").append(v.epoch()).append("</h2>");
        html.append("<h3>Confusion matrix</h3><p class=\"note\">Rows: true label; columns: predicted. "
                + "A cell's shade is its share of its row; the last columns are each class's images and accuracy.</p>");
        html.append(ConfusionMatrixTable.html(v.labels(), v.confusion()));
        long wrong = 0;
        for (int t = 0; t < v.confusion().length; t++) {
            for (int p = 0; p < v.confusion()[t].length; p++) {
                wrong += t == p ? 0 : v.confusion()[t][p];
            }
        }
        html.append("<h3>Misclassified images</h3>");
        if (v.misclassified().isEmpty()) {
            html.append("<p class=\"note\">").append(wrong == 0 ? "None: every valid image was classified right."
                    : "No thumbnails kept.").append("</p>");
            return html.toString();
        }
        html.append(String.format(Locale.ROOT, "<p class=\"note\">%s of %s, picked at random; as the model saw them.</p>",
                Formats.count(v.misclassified().size()), Formats.count(wrong)));
        List<ClassifiedImage> ordered = v.misclassified().stream()
                .sorted(Comparator.comparing(ClassifiedImage::trueLabel).thenComparing(ClassifiedImage::score, Comparator.reverseOrder()))
                .toList();
        return html.append(ImageGallery.html(ordered)).toString();
    }

    /** Trailing mean over up to {@code window} values, NaN values left out. */
    static double[] movingMean(double[] values, int window) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            double sum = 0;
            int n = 0;
            for (int j = Math.max(0, i - window + 1); j <= i; j++) {
                if (Double.isFinite(values[j])) {
                    sum += values[j];
                    n++;
                }
            }
            out[i] = n == 0 ? Double.NaN : sum / n;
        }
        return out;
    }

    private static double[] series(List<Map<String, Object>> epochs, Function<Map<String, Object>, Double> value) {
        double[] out = new double[epochs.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = value.apply(epochs.get(i));
        }
        return out;
    }

    private static double number(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
