package dev.petal.localstack.pipeline;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import dev.petal.common.report.LineChart;

/** The demo's self-contained HTML report: training curves, confusion matrix, sample predictions. */
final class DemoReport {
    private DemoReport() {}

    static Path write(Path file, String model, String version, String dataset, DemoResults results,
                      List<TrainingHistory.Point> history, int sent, int deadLetters) throws IOException {
        StringBuilder html = new StringBuilder();
        html.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Petal demo report</title><style>")
                .append("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}")
                .append(".grid{display:flex;flex-wrap:wrap;gap:12px}.card{width:150px;font-size:12px}")
                .append(".card img{width:150px;height:150px;object-fit:cover;border-radius:4px}")
                .append(".ok{color:#17803d}.bad{color:#b42318}</style></head><body>");
        html.append("<h1>Petal demo</h1><p>Dataset <b>").append(esc(dataset)).append("</b>, model <b>")
                .append(esc(model)).append("</b> version <b>").append(esc(version)).append("</b>. ")
                .append(sent).append(" valid-split images sent to petal.images, ").append(results.scored.size())
                .append(" predictions, ").append(deadLetters).append(" dead letters. Accuracy <b>")
                .append(String.format(Locale.ROOT, "%.1f%%", 100 * results.accuracy())).append("</b>.</p>");

        html.append("<h2>Training</h2>");
        if (history.isEmpty()) {
            html.append("<p>No training history found.</p>");
        } else {
            html.append(chart(history, "loss", "Loss per epoch")).append(chart(history, "acc", "Accuracy per epoch"));
            html.append(historyTable(history));
        }

        html.append("<h2>Confusion matrix</h2><p>Rows: true label; columns: predicted.</p><table><tr><th></th>");
        results.labels.forEach(l -> html.append("<th>").append(esc(l)).append("</th>"));
        html.append("<th>accuracy</th></tr>");
        int max = 1;
        for (int[] row : results.confusion) {
            for (int v : row) {
                max = Math.max(max, v);
            }
        }
        for (int i = 0; i < results.labels.size(); i++) {
            html.append("<tr><th>").append(esc(results.labels.get(i))).append("</th>");
            for (int p = 0; p < results.labels.size(); p++) {
                int v = results.confusion[i][p];
                double a = 0.85 * v / max;
                String colour = i == p ? "rgba(23,128,61," + a + ")" : "rgba(180,35,24," + a + ")";
                html.append("<td style=\"background:").append(colour).append("\">").append(v).append("</td>");
            }
            html.append(String.format(Locale.ROOT, "<td>%.1f%%</td></tr>", 100 * results.classAccuracy(i)));
        }
        html.append("</table>");

        html.append("<h2>Sample predictions</h2><div class=\"grid\">");
        for (DemoResults.Scored s : results.samples(24)) {
            html.append("<div class=\"card\">");
            String thumb = thumbnail(s.image().bytes());
            if (thumb != null) {
                html.append("<img alt=\"\" src=\"data:image/jpeg;base64,").append(thumb).append("\">");
            }
            html.append("<div class=\"").append(s.correct() ? "ok" : "bad").append("\">")
                    .append(esc(s.prediction().label()))
                    .append(String.format(Locale.ROOT, " %.2f", s.prediction().score()))
                    .append("</div><div>true: ").append(esc(s.image().label())).append("</div></div>");
        }
        html.append("</div></body></html>");
        Files.createDirectories(file.getParent());
        Files.writeString(file, html, StandardCharsets.UTF_8);
        return file;
    }

    /** The curves of every metric whose name contains {@code key}, oldest checkpoint first. */
    static String chart(List<TrainingHistory.Point> history, String key, String title) {
        Map<String, List<Double>> series = new TreeMap<>();
        history.forEach(p -> p.metrics().keySet().stream()
                .filter(n -> n.toLowerCase(Locale.ROOT).contains(key) && !n.toLowerCase(Locale.ROOT).contains("class"))
                .forEach(n -> series.put(n, new ArrayList<>())));
        for (TrainingHistory.Point p : history) {
            series.forEach((name, values) -> values.add(p.metrics().get(name)));
        }
        return series.isEmpty() ? "" : LineChart.svg(title, "checkpoint (oldest to newest)", history.size(), series);
    }

    private static String historyTable(List<TrainingHistory.Point> history) {
        TreeSet<String> names = new TreeSet<>();
        history.forEach(p -> names.addAll(p.metrics().keySet()));
        names.remove("epoch"); // already a column
        StringBuilder t = new StringBuilder("<table><tr><th>version</th><th>epoch</th><th>step</th>");
        names.forEach(n -> t.append("<th>").append(esc(n)).append("</th>"));
        t.append("</tr>");
        for (TrainingHistory.Point p : history) {
            t.append("<tr><td>").append(esc(p.version())).append("</td><td>").append(p.epoch()).append("</td><td>")
                    .append(p.step()).append("</td>");
            for (String n : names) {
                Double v = p.metrics().get(n);
                t.append("<td>").append(v == null ? "" : String.format(Locale.ROOT, "%.4f", v)).append("</td>");
            }
            t.append("</tr>");
        }
        return t.append("</table>").toString();
    }

    /** A 150 px JPEG thumbnail as base64, or null when this JVM's ImageIO cannot read the image. */
    static String thumbnail(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return null;
        }
        try {
            BufferedImage source = ImageIO.read(new ByteArrayInputStream(bytes));
            if (source == null) {
                return null;
            }
            double scale = 150.0 / Math.min(source.getWidth(), source.getHeight());
            int w = Math.max(1, (int) Math.round(source.getWidth() * Math.min(1, scale)));
            int h = Math.max(1, (int) Math.round(source.getHeight() * Math.min(1, scale)));
            BufferedImage thumb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = thumb.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(source, 0, 0, w, h, null);
            g.dispose();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(thumb, "jpg", out);
            return Base64.getEncoder().encodeToString(out.toByteArray());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static String esc(String s) {
        return LineChart.escape(s);
    }

}
