package dev.petal.common.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An inline-SVG line chart for self-contained reports: labelled axes with round ticks, a legend, gaps
 * where a value is missing (NaN). The y axis turns logarithmic by itself when the values span more
 * than 1.5 decades ({@link AxisScale#LOG_RATIO}), and says so in its label.
 */
public final class LineChart {
    private static final String[] COLOURS = {"#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83"};
    private static final int WIDTH = 560; // about its width on the page, so text shows at its size
    private static final int HEIGHT = 280;
    private static final int LEFT = 66;
    private static final int RIGHT = 18;
    private static final int BOTTOM = 46;
    /** Series with at most this many points get a dot per point (one epoch is otherwise invisible). */
    private static final int MARKERS_UP_TO = 40;

    private record Series(String name, double[] x, double[] y, boolean faint) {}

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private boolean wholeNumbersOnX;
    private boolean logAllowed = true;
    private double[] fixedY;

    public LineChart(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    /** A line; {@code y[i]} is drawn at {@code x[i]}, NaN leaves a gap. */
    public LineChart line(String name, double[] x, double[] y) {
        return add(new Series(name, x, y, false));
    }

    /** A thin, pale line under the others: raw values that a smoothed line summarises. */
    public LineChart faintLine(String name, double[] x, double[] y) {
        return add(new Series(name, x, y, true));
    }

    private LineChart add(Series s) {
        if (s.x().length != s.y().length) {
            throw new IllegalArgumentException(s.name() + ": " + s.x().length + " x values for " + s.y().length + " y values");
        }
        series.add(s);
        return this;
    }

    /** Ticks on x at whole numbers only (steps, epochs). */
    public LineChart wholeNumbersOnX() {
        this.wholeNumbersOnX = true;
        return this;
    }

    /** A linear y axis over exactly [min, max], whatever the values (accuracy in percent). */
    public LineChart yRange(double min, double max) {
        this.fixedY = new double[] {min, max};
        return this;
    }

    /** Keeps the y axis linear (a schedule that decays to zero reads as designed). */
    public LineChart linearY() {
        this.logAllowed = false;
        return this;
    }

    /** Whether any series has a value to draw. */
    public boolean hasData() {
        return series.stream().anyMatch(s -> {
            for (double v : s.y()) {
                if (Double.isFinite(v)) {
                    return true;
                }
            }
            return false;
        });
    }

    /** The chart as a {@code <figure>}: its title as caption, then the SVG. */
    public String html() {
        StringBuilder out = new StringBuilder("<figure class=\"chart\"><figcaption>").append(ReportPage.escape(title))
                .append("</figcaption>");
        if (!hasData()) {
            return out.append("<p class=\"note\">No values yet.</p></figure>").toString();
        }
        double[] yBounds = bounds(true);
        double[] xBounds = bounds(false);
        List<String> legend = series.stream().map(Series::name).toList();
        int[] legendRows = legendRows(legend);
        int top = 14 + 16 * (legendRows.length == 0 ? 0 : legendRows[legendRows.length - 1] + 1);
        AxisScale y = fixedY != null ? AxisScale.fixed(fixedY[0], fixedY[1], HEIGHT - BOTTOM, top)
                : logAllowed && AxisScale.spansDecades(yBounds[0], yBounds[1])
                ? AxisScale.logarithmic(yBounds[0], yBounds[1], HEIGHT - BOTTOM, top)
                : AxisScale.linear(yBounds[0], yBounds[1], false, HEIGHT - BOTTOM, top);
        AxisScale x = AxisScale.linear(xBounds[0], xBounds[1], wholeNumbersOnX, LEFT, WIDTH - RIGHT);

        out.append(String.format(Locale.ROOT, "<svg class=\"line-chart\" data-y-scale=\"%s\" viewBox=\"0 0 %d %d\" "
                        + "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" font-family=\"system-ui,sans-serif\" font-size=\"12\">",
                y.logarithmic() ? "log" : "linear", WIDTH, HEIGHT));
        out.append("<title>").append(ReportPage.escape(title)).append("</title>");
        axes(out, x, y, top);
        List<String> colours = colours();
        for (int i = 0; i < series.size(); i++) {
            plot(out, series.get(i), colours.get(i), x, y);
        }
        legend(out, legend, legendRows, colours);
        return out.append("</svg></figure>").toString();
    }

    /** Smallest and largest finite value of y, or of x where y is finite. */
    private double[] bounds(boolean ofY) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.y().length; i++) {
                if (!Double.isFinite(s.y()[i]) || !Double.isFinite(s.x()[i])) {
                    continue;
                }
                double v = ofY ? s.y()[i] : s.x()[i];
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        return new double[] {lo, hi};
    }

    private void axes(StringBuilder out, AxisScale x, AxisScale y, int top) {
        int bottom = HEIGHT - BOTTOM;
        for (int i = 0; i < y.ticks().size(); i++) {
            double py = y.pixel(y.ticks().get(i));
            out.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>",
                    LEFT, WIDTH - RIGHT, py, py));
            out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" dominant-baseline=\"middle\" "
                    + "fill=\"#57606a\">%s</text>", LEFT - 6, py, y.tickLabels().get(i)));
        }
        for (int i = 0; i < x.ticks().size(); i++) {
            double px = x.pixel(x.ticks().get(i));
            out.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#8c959f\"/>",
                    px, px, bottom, bottom + 4));
            out.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#57606a\">%s</text>",
                    px, bottom + 16, x.tickLabels().get(i)));
        }
        out.append(String.format(Locale.ROOT, "<path d=\"M%d %d V%d H%d\" fill=\"none\" stroke=\"#8c959f\" class=\"axis\"/>",
                LEFT, top, bottom, WIDTH - RIGHT));
        out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#1f2328\">%s</text>",
                (LEFT + WIDTH - RIGHT) / 2, HEIGHT - 8, ReportPage.escape(xLabel)));
        String label = yLabel + (y.logarithmic() ? " (log scale)" : "");
        out.append(String.format(Locale.ROOT, "<text transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\" "
                + "fill=\"#1f2328\">%s</text>", (top + bottom) / 2, ReportPage.escape(label)));
    }

    private static void plot(StringBuilder out, Series s, String colour, AxisScale x, AxisScale y) {
        StringBuilder d = new StringBuilder();
        StringBuilder dots = new StringBuilder();
        boolean pen = false;
        int drawn = 0;
        for (int i = 0; i < s.y().length; i++) {
            if (!y.drawable(s.y()[i]) || !Double.isFinite(s.x()[i])) {
                pen = false;
                continue;
            }
            double px = x.pixel(s.x()[i]);
            double py = y.pixel(s.y()[i]);
            d.append(String.format(Locale.ROOT, "%s%.1f %.1f", pen ? " L" : (d.length() == 0 ? "M" : " M"), px, py));
            dots.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>", px, py));
            pen = true;
            drawn++;
        }
        if (drawn == 0) {
            return;
        }
        out.append("<path class=\"series\" fill=\"none\" stroke-linejoin=\"round\" stroke=\"").append(colour)
                .append(s.faint() ? "\" stroke-width=\"1\" stroke-opacity=\"0.35\"" : "\" stroke-width=\"2\"")
                .append(" d=\"").append(d).append("\"><title>").append(ReportPage.escape(s.name())).append("</title></path>");
        if (drawn <= MARKERS_UP_TO && !s.faint()) {
            out.append("<g fill=\"").append(colour).append("\">").append(dots).append("</g>");
        }
    }

    /** A colour per series; a faint line shares the colour of the line after it (its smoothed version). */
    private List<String> colours() {
        List<String> colours = new ArrayList<>();
        int next = 0;
        for (Series s : series) {
            colours.add(COLOURS[next % COLOURS.length]);
            if (!s.faint()) {
                next++;
            }
        }
        return colours;
    }

    /** The legend row of each entry, wrapping when a row would pass the plot's width. */
    private static int[] legendRows(List<String> names) {
        int[] rows = new int[names.size()];
        int row = 0;
        int used = 0;
        for (int i = 0; i < names.size(); i++) {
            int width = legendWidth(names.get(i));
            if (used > 0 && LEFT + used + width > WIDTH - RIGHT) {
                row++;
                used = 0;
            }
            rows[i] = row;
            used += width;
        }
        return rows;
    }

    /** Roughly: a swatch, then about 7 px per character at 12 px. */
    private static int legendWidth(String name) {
        return 32 + (int) Math.ceil(7 * name.length());
    }

    private void legend(StringBuilder out, List<String> names, int[] rows, List<String> colours) {
        int used = 0;
        int row = 0;
        for (int i = 0; i < names.size(); i++) {
            if (rows[i] != row) {
                row = rows[i];
                used = 0;
            }
            int lx = LEFT + used;
            int ly = 12 + 16 * row;
            String colour = colours.get(i);
            out.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%s\"%s/>",
                    lx, lx + 18, ly, ly, colour, series.get(i).faint() ? "2" : "3",
                    series.get(i).faint() ? " stroke-opacity=\"0.4\"" : ""));
            out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" dominant-baseline=\"middle\" fill=\"#1f2328\">%s</text>",
                    lx + 23, ly, ReportPage.escape(names.get(i))));
            used += legendWidth(names.get(i));
        }
    }
}
