package dev.petal.common.report;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Maps one axis's values to pixels, linearly or logarithmically, with round-numbered ticks. */
final class AxisScale {
    /**
     * Largest over smallest value beyond which a log axis reads better (1.5 decades): one epoch's loss of
     * 50 would otherwise squash every other point of a curve onto the axis.
     */
    static final double LOG_RATIO = Math.pow(10, 1.5);
    private static final int TARGET_TICKS = 5;

    private final boolean log;
    private final double lo;
    private final double hi;
    private final double fromPixel;
    private final double toPixel;
    private final List<Double> ticks = new ArrayList<>();
    private final List<String> labels = new ArrayList<>();

    private AxisScale(boolean log, double lo, double hi, double fromPixel, double toPixel) {
        this.log = log;
        this.lo = lo;
        this.hi = hi;
        this.fromPixel = fromPixel;
        this.toPixel = toPixel;
    }

    /** Whether values from {@code min} to {@code max} span enough decades for a log axis. */
    static boolean spansDecades(double min, double max) {
        return min > 0 && max / min > LOG_RATIO;
    }

    /** A linear axis over [min, max] widened to round ticks; {@code integers} keeps ticks whole (steps, epochs). */
    static AxisScale linear(double min, double max, boolean integers, double fromPixel, double toPixel) {
        if (max - min <= Math.abs(max) * 1e-9) {
            double pad = integers ? 1 : Math.max(Math.abs(max) * 0.1, 1e-6);
            min -= pad;
            max += pad;
        }
        double step = niceStep((max - min) / TARGET_TICKS);
        if (integers) {
            step = Math.max(1, Math.round(step));
        }
        AxisScale axis = new AxisScale(false, Math.floor(min / step) * step, Math.ceil(max / step) * step, fromPixel, toPixel);
        axis.addLinearTicks(step);
        return axis;
    }

    /** A linear axis over exactly [min, max] (accuracy from 0 to 100%). */
    static AxisScale fixed(double min, double max, double fromPixel, double toPixel) {
        AxisScale axis = new AxisScale(false, min, max, fromPixel, toPixel);
        axis.addLinearTicks(niceStep((max - min) / TARGET_TICKS));
        return axis;
    }

    /** A log-10 axis over [min, max] (both positive), ticks at powers of ten, and at 2 and 5 times them over few decades. */
    static AxisScale logarithmic(double min, double max, double fromPixel, double toPixel) {
        double decades = Math.log10(max / min);
        double pad = Math.pow(10, 0.03 * decades);
        AxisScale axis = new AxisScale(true, min / pad, max * pad, fromPixel, toPixel);
        int first = (int) Math.floor(Math.log10(axis.lo));
        int last = (int) Math.ceil(Math.log10(axis.hi));
        int[] mantissas = decades < 3 ? new int[] {1, 2, 5} : new int[] {1};
        int every = Math.max(1, (int) Math.ceil((last - first + 1) / 7.0)); // at most about 7 decade ticks
        for (int e = first; e <= last; e++) {
            if (Math.floorMod(e, every) != 0) {
                continue;
            }
            for (int m : mantissas) {
                BigDecimal exact = BigDecimal.valueOf(m).scaleByPowerOfTen(e);
                double v = exact.doubleValue();
                if (v >= axis.lo && v <= axis.hi) {
                    axis.ticks.add(v);
                    axis.labels.add(e >= -3 && e <= 5 ? exact.stripTrailingZeros().toPlainString() : m + "e" + e);
                }
            }
        }
        return axis;
    }

    private void addLinearTicks(double step) {
        int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
        for (int i = 0; ; i++) {
            double v = lo + i * step;
            if (v > hi + step * 1e-6) {
                break;
            }
            ticks.add(v);
            labels.add(linearLabel(v, step, decimals));
        }
    }

    /** Plain decimals, or for steps below 1e-4 (learning rates) a short "2e-5", so labels stay narrow. */
    private static String linearLabel(double v, double step, int decimals) {
        if (Math.abs(v) < step * 1e-6) {
            return "0";
        }
        if (decimals > 4) {
            BigDecimal rounded = BigDecimal.valueOf(v).setScale(decimals, RoundingMode.HALF_EVEN).stripTrailingZeros();
            int exponent = rounded.precision() - rounded.scale() - 1;
            return rounded.movePointRight(-exponent).toPlainString() + "e" + exponent;
        }
        String label = String.format(Locale.ROOT, "%." + decimals + "f", v);
        return label.matches("-0(\\.0*)?") ? label.substring(1) : label;
    }

    /** 1, 2 or 5 times a power of ten, the nearest to {@code rough}. */
    private static double niceStep(double rough) {
        double power = Math.pow(10, Math.floor(Math.log10(rough)));
        double f = rough / power;
        return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * power;
    }

    boolean logarithmic() {
        return log;
    }

    /** Whether {@code value} can be drawn on this axis (a log axis cannot show zero or less). */
    boolean drawable(double value) {
        return Double.isFinite(value) && (!log || value > 0);
    }

    double pixel(double value) {
        double t = log ? (Math.log10(value) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (value - lo) / (hi - lo);
        return fromPixel + t * (toPixel - fromPixel);
    }

    List<Double> ticks() {
        return ticks;
    }

    List<String> tickLabels() {
        return labels;
    }
}
