package dev.petal.trainer.job;

import dev.petal.common.report.LineChart;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The run's self-contained HTML report (loss and accuracy per epoch), stored beside each checkpoint. */
final class TrainingReport {
    private TrainingReport() {}

    static String html(String model, String version, List<Map<String, Object>> history) {
        StringBuilder html = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>")
                .append(LineChart.escape(model)).append(' ').append(LineChart.escape(version))
                .append("</title><style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:3px 8px}"
                        + "table{border-collapse:collapse}</style></head><body><h1>")
                .append(LineChart.escape(model)).append(" ").append(LineChart.escape(version)).append("</h1>");
        html.append(LineChart.svg("Loss", "epoch", history.size(), series(history, "trainLoss", "validLoss")));
        html.append(LineChart.svg("Accuracy", "epoch", history.size(), series(history, "trainAccuracy", "validAccuracy")));
        html.append("<table><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>valid loss</th><th>valid acc</th><th>images/s</th></tr>");
        for (Map<String, Object> m : history) {
            html.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%.4f</td><td>%.3f</td><td>%.4f</td><td>%.3f</td><td>%.1f</td></tr>",
                    m.get("epoch"), num(m, "trainLoss"), num(m, "trainAccuracy"), num(m, "validLoss"), num(m, "validAccuracy"),
                    num(m, "imagesPerSecond")));
        }
        return html.append("</table></body></html>").toString();
    }

    private static Map<String, List<Double>> series(List<Map<String, Object>> history, String... names) {
        Map<String, List<Double>> out = new LinkedHashMap<>();
        for (String name : names) {
            List<Double> values = new ArrayList<>();
            history.forEach(m -> values.add(m.get(name) instanceof Number n && !Double.isNaN(n.doubleValue()) ? n.doubleValue() : null));
            out.put(name, values);
        }
        return out;
    }

    private static double num(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
