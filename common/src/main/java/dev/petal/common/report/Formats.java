package dev.petal.common.report;

import java.util.Locale;

/** How a report prints numbers: counts as integers, fractions as percentages with one decimal. */
public final class Formats {
    /** What a report shows where a value is missing or not a number. */
    public static final String MISSING = "–";

    private Formats() {}

    /** A count, with thousands separators; a count read back from JSON as 202.0 prints 202. */
    public static String count(Number value) {
        if (value == null || !Double.isFinite(value.doubleValue())) {
            return MISSING;
        }
        return String.format(Locale.ROOT, "%,d", Math.round(value.doubleValue()));
    }

    /** A fraction in [0, 1] as a percentage with one decimal: 0.6204 prints 62.0%. */
    public static String percent(Number fraction) {
        if (fraction == null || !Double.isFinite(fraction.doubleValue())) {
            return MISSING;
        }
        return String.format(Locale.ROOT, "%.1f%%", 100 * fraction.doubleValue());
    }

    /** A measured quantity (a loss) to four significant digits, in plain notation where that stays short. */
    public static String decimal(Number value) {
        if (value == null || !Double.isFinite(value.doubleValue())) {
            return MISSING;
        }
        double v = value.doubleValue();
        double magnitude = Math.abs(v);
        if (v != 0 && (magnitude < 1e-3 || magnitude >= 1e6)) {
            return String.format(Locale.ROOT, "%.3e", v);
        }
        int decimals = v == 0 ? 4 : Math.max(0, 3 - (int) Math.floor(Math.log10(magnitude)));
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** A rate (images/s) with one decimal and thousands separators. */
    public static String rate(Number value) {
        if (value == null || !Double.isFinite(value.doubleValue())) {
            return MISSING;
        }
        return String.format(Locale.ROOT, "%,.1f", value.doubleValue());
    }

    /** A learning rate, in scientific notation (they span decades). */
    public static String learningRate(Number value) {
        if (value == null || !Double.isFinite(value.doubleValue())) {
            return MISSING;
        }
        return String.format(Locale.ROOT, "%.2e", value.doubleValue());
    }
}
