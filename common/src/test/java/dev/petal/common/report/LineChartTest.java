package dev.petal.common.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class LineChartTest {
    private static final double[] EPOCHS = {1, 2, 3, 4};

    @Test
    void valuesOverMoreThanOneAndAHalfDecadesGetALabelledLogAxis() {
        String svg = new LineChart("Loss per epoch", "epoch", "loss").line("valid", EPOCHS, new double[] {1.2, 50, 0.7, 0.58}).html();
        assertTrue(svg.contains("data-y-scale=\"log\""), svg);
        assertTrue(svg.contains("loss (log scale)"), svg);
        assertTrue(svg.contains(">10<") && svg.contains(">1<"), "ticks at powers of ten: " + svg);
    }

    @Test
    void valuesWithinADecadeStayLinearWithRoundTicks() {
        String svg = new LineChart("Loss", "epoch", "loss").line("train", EPOCHS, new double[] {1.42, 0.91, 0.63, 0.47}).html();
        assertTrue(svg.contains("data-y-scale=\"linear\""), svg);
        assertFalse(svg.contains("log scale"), svg);
        assertTrue(svg.contains(">0.4<") && svg.contains(">1.6<"), "ticks every 0.2 around the values: " + svg);
    }

    @Test
    void smallLinearTicksAreShortScientificLabels() {
        String svg = new LineChart("Learning rate", "step", "learning rate").linearY()
                .line("lr", EPOCHS, new double[] {1e-6, 1e-4, 6e-5, 1e-7}).html();
        assertTrue(svg.contains(">2e-5<") && svg.contains(">1e-4<") && svg.contains(">0<"), svg);
        assertFalse(svg.contains("0.00002"), svg);
    }

    @Test
    void aValueOfZeroOrLessKeepsTheAxisLinear() {
        String svg = new LineChart("Rate", "step", "lr").line("lr", EPOCHS, new double[] {0, 1e-3, 1e-5, 1e-7}).html();
        assertTrue(svg.contains("data-y-scale=\"linear\""), svg);
    }

    @Test
    void linearYAndAFixedRangeOverrideTheChoice() {
        assertTrue(new LineChart("t", "x", "y").linearY().line("a", EPOCHS, new double[] {1, 1000, 1, 1}).html()
                .contains("data-y-scale=\"linear\""));
        String accuracy = new LineChart("Accuracy", "epoch", "accuracy (%)").yRange(0, 100)
                .line("valid", EPOCHS, new double[] {0.5, 60, 70, 75}).html();
        assertTrue(accuracy.contains("data-y-scale=\"linear\"") && accuracy.contains(">100<") && accuracy.contains(">0<"), accuracy);
    }

    @Test
    void aMissingValueBreaksTheLine() {
        String svg = new LineChart("t", "epoch", "loss").line("valid", EPOCHS, new double[] {1, Double.NaN, 0.8, 0.7}).html();
        Matcher d = Pattern.compile("class=\"series\"[^>]* d=\"([^\"]*)\"").matcher(svg);
        assertTrue(d.find(), svg);
        assertEquals(2, d.group(1).chars().filter(c -> c == 'M').count(), "two pieces: " + d.group(1));
    }

    @Test
    void aSinglePointIsDrawnAsADot() {
        String svg = new LineChart("t", "epoch", "loss").wholeNumbersOnX().line("valid", new double[] {1}, new double[] {0.9}).html();
        assertTrue(svg.contains("<circle"), svg);
        assertTrue(svg.contains(">1<"), "whole-number tick at epoch 1: " + svg);
    }

    @Test
    void noValuesGiveANoteInsteadOfAnEmptyChart() {
        String html = new LineChart("t", "x", "y").line("a", EPOCHS, new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN}).html();
        assertFalse(html.contains("<svg"), html);
        assertTrue(html.contains("No values yet"), html);
    }

    @Test
    void namesAreEscaped() {
        String svg = new LineChart("<b>", "x", "y").line("a&b", EPOCHS, new double[] {1, 2, 3, 4}).html();
        assertTrue(svg.contains("&lt;b&gt;") && svg.contains("a&amp;b") && !svg.contains("<b>"), svg);
    }
}
