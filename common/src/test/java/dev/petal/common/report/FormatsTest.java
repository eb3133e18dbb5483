package dev.petal.common.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class FormatsTest {
    @Test
    void countsPrintAsIntegersEvenWhenJsonReadThemBackAsDoubles() {
        assertEquals("202", Formats.count(202.0));
        assertEquals("4,317", Formats.count(4317));
        assertEquals("0", Formats.count(0L));
        assertEquals(Formats.MISSING, Formats.count(Double.NaN));
        assertEquals(Formats.MISSING, Formats.count(null));
    }

    @Test
    void percentagesHaveOneDecimal() {
        assertEquals("62.0%", Formats.percent(0.62));
        assertEquals("75.4%", Formats.percent(0.75396));
        assertEquals("100.0%", Formats.percent(1));
        assertEquals(Formats.MISSING, Formats.percent(Double.NaN));
    }

    @Test
    void lossesKeepFourSignificantDigits() {
        assertEquals("50.00", Formats.decimal(50.0));
        assertEquals("0.4700", Formats.decimal(0.47));
        assertEquals("0.001234", Formats.decimal(0.0012341));
        assertEquals("1.230e-04", Formats.decimal(0.000123));
        assertEquals("1235", Formats.decimal(1234.5));
        assertEquals("0.0000", Formats.decimal(0));
    }

    @Test
    void ratesHaveOneDecimal() {
        assertEquals("1,234.6", Formats.rate(1234.56));
        assertEquals("1.00e-04", Formats.learningRate(1e-4));
    }
}
