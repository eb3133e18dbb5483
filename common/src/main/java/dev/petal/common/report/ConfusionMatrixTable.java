package dev.petal.common.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A confusion matrix as a table: rows are true labels, columns predictions, each cell shaded by its
 * share of its row (green on the diagonal, red off it), then each row's image count and accuracy.
 */
public final class ConfusionMatrixTable {
    private ConfusionMatrixTable() {}

    /** {@code counts[true][predicted]}, square, in the order of {@code labels}. */
    public static String html(List<String> labels, int[][] counts) {
        List<String> headers = new ArrayList<>();
        headers.add("true \\ predicted");
        headers.addAll(labels);
        headers.add("images");
        headers.add("accuracy");
        DataTable table = new DataTable(headers);
        long right = 0;
        long total = 0;
        for (int t = 0; t < labels.size(); t++) {
            long rowTotal = 0;
            for (int v : counts[t]) {
                rowTotal += v;
            }
            List<DataTable.Cell> cells = new ArrayList<>();
            cells.add(DataTable.Cell.rowHeader(labels.get(t)));
            for (int p = 0; p < labels.size(); p++) {
                int v = counts[t][p];
                double share = rowTotal == 0 ? 0 : (double) v / rowTotal;
                cells.add(DataTable.Cell.number(Formats.count(v)).styled(shade(share, t == p),
                        String.format(Locale.ROOT, "true %s, predicted %s: %d of %d (%s)", labels.get(t), labels.get(p), v,
                                rowTotal, Formats.percent(share))));
            }
            cells.add(DataTable.Cell.number(Formats.count(rowTotal)));
            cells.add(DataTable.Cell.number(rowTotal == 0 ? Formats.MISSING : Formats.percent((double) counts[t][t] / rowTotal)));
            table.row(cells);
            right += counts[t][t];
            total += rowTotal;
        }
        List<DataTable.Cell> overall = new ArrayList<>();
        overall.add(DataTable.Cell.rowHeader("all"));
        for (int p = 0; p < labels.size(); p++) {
            overall.add(DataTable.Cell.text(""));
        }
        overall.add(DataTable.Cell.number(Formats.count(total)));
        overall.add(DataTable.Cell.number(total == 0 ? Formats.MISSING : Formats.percent((double) right / total)));
        return table.row(overall).html();
    }

    /** The cell's background for its share of the row; dark cells get white text. */
    private static String shade(double share, boolean diagonal) {
        if (share <= 0) {
            return null;
        }
        double alpha = 0.08 + 0.82 * share;
        String rgb = diagonal ? "26,127,55" : "207,34,46";
        return String.format(Locale.ROOT, "background:rgba(%s,%.2f)%s", rgb, alpha, alpha > 0.55 ? ";color:#fff" : "");
    }
}
