package dev.petal.common.report;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A small inline-SVG line chart for self-contained HTML reports (training curves). */
public final class LineChart {
    private static final String[] COLOURS = {"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c"};

    private LineChart() {}

    /** One line per series; {@code null} values are gaps. X positions are the points' indices. */
    public static String svg(String title, String xAxis, int points, Map<String, List<Double>> series) {
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (List<Double> values : series.values()) {
            for (Double v : values) {
                if (v != null) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo == Double.MAX_VALUE) {
            return "";
        }
        if (hi - lo < 1e-9) {
            hi = lo + 1;
        }
        int w = 480;
        int h = 220;
        int pad = 44;
        StringBuilder svg = new StringBuilder("<h3>" + escape(title) + "</h3><svg width=\"" + (w + 170) + "\" height=\"" + h
                + "\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\" font-family=\"sans-serif\">");
        svg.append(String.format(Locale.ROOT, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#999'/>", pad, h - pad, w, h - pad));
        svg.append(String.format(Locale.ROOT, "<line x1='%d' y1='10' x2='%d' y2='%d' stroke='#999'/>", pad, pad, h - pad));
        svg.append(String.format(Locale.ROOT, "<text x='2' y='16'>%.3f</text><text x='2' y='%d'>%.3f</text>", hi, h - pad, lo));
        svg.append(String.format(Locale.ROOT, "<text x='%d' y='%d'>%s</text>", w / 2 - 30, h - 10, escape(xAxis)));
        int c = 0;
        for (Map.Entry<String, List<Double>> s : series.entrySet()) {
            String colour = COLOURS[c % COLOURS.length];
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < s.getValue().size(); i++) {
                Double v = s.getValue().get(i);
                if (v == null) {
                    continue;
                }
                double x = pad + (points <= 1 ? 0.5 : (double) i / (points - 1)) * (w - pad);
                double y = (h - pad) - (v - lo) / (hi - lo) * (h - pad - 10);
                line.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
                svg.append(String.format(Locale.ROOT, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>", x, y, colour));
            }
            svg.append("<polyline fill='none' stroke-width='2' stroke='").append(colour).append("' points='")
                    .append(line.toString().trim()).append("'/>");
            svg.append(String.format(Locale.ROOT, "<text x='%d' y='%d' fill='%s'>%s</text>", w + 10, 20 + 16 * c, colour,
                    escape(s.getKey())));
            c++;
        }
        return svg.append("</svg>").toString();
    }

    public static String escape(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
