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

import java.util.TreeSet;
import javax.imageio.ImageIO;

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

    /** An inline SVG line chart of every metric whose name contains {@code key}. */
    static String chart(List<TrainingHistory.Point> history, String key, String title) {
        TreeSet<String> names = new TreeSet<>();
        history.forEach(p -> p.metrics().keySet().stream()
                .filter(n -> n.toLowerCase(Locale.ROOT).contains(key) && !n.toLowerCase(Locale.ROOT).contains("class"))
                .forEach(names::add));
        if (names.isEmpty()) {
            return "";
        }
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (TrainingHistory.Point p : history) {
            for (String n : names) {
                Double v = p.metrics().get(n);
                if (v != null) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (hi - lo < 1e-9) {
            hi = lo + 1;
        }
        int w = 480;
        int h = 220;
        int pad = 40;
        String[] colours = {"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c"};
        StringBuilder svg = new StringBuilder("<h3>" + esc(title) + "</h3><svg width=\"" + (w + 160) + "\" height=\"" + h
                + "\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">");
        svg.append(String.format(Locale.ROOT, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#999'/>", pad, h - pad, w, h - pad));
        svg.append(String.format(Locale.ROOT, "<line x1='%d' y1='10' x2='%d' y2='%d' stroke='#999'/>", pad, pad, h - pad));
        svg.append(String.format(Locale.ROOT, "<text x='2' y='16'>%.3f</text><text x='2' y='%d'>%.3f</text>", hi, h - pad, lo));
        int c = 0;
        for (String n : names) {
            List<String> pts = new ArrayList<>();
            for (int i = 0; i < history.size(); i++) {
                Double v = history.get(i).metrics().get(n);
                if (v == null) {
                    continue;
                }
                double x = pad + (history.size() == 1 ? 0.5 : (double) i / (history.size() - 1)) * (w - pad);
                double y = (h - pad) - (v - lo) / (hi - lo) * (h - pad - 10);
                pts.add(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
                svg.append(String.format(Locale.ROOT, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>", x, y, colours[c % colours.length]));
            }
            svg.append("<polyline fill='none' stroke-width='2' stroke='").append(colours[c % colours.length])
                    .append("' points='").append(String.join(" ", pts)).append("'/>");
            svg.append(String.format(Locale.ROOT, "<text x='%d' y='%d' fill='%s'>%s</text>", w + 10, 20 + 16 * c,
                    colours[c % colours.length], esc(n)));
            c++;
        }
        svg.append(String.format(Locale.ROOT, "<text x='%d' y='%d'>checkpoint (oldest to newest)</text>", w / 2 - 40, h - 8));
        return svg.append("</svg>").toString();
    }

    private static String historyTable(List<TrainingHistory.Point> history) {
        TreeSet<String> names = new TreeSet<>();
        history.forEach(p -> names.addAll(p.metrics().keySet()));
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
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

}
