package dev.petal.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.petal.common.model.Precision;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** precision-check's suggestion: the fastest precision within one point of fp32's top-1 accuracy. */
class FastestPrecisionTest {
    private static Precision fastest(double fp32, double bf16, double int8, double fp32Speed, double bf16Speed, double int8Speed) {
        return PrecisionCheckCommand.fastestWithinOnePoint(
                Map.of(Precision.FP32, fp32, Precision.BF16, bf16, Precision.INT8, int8),
                Map.of(Precision.FP32, fp32Speed, Precision.BF16, bf16Speed, Precision.INT8, int8Speed));
    }

    @Test
    void withAmxBf16OutrunsInt8() {
        // The Intel host's 5-epoch flowers model (docs/performance.md): 70.24%, 70.11%, 69.99%; 143.1, 605.3, 515.1 images/s.
        assertEquals(Precision.BF16, fastest(0.7024, 0.7011, 0.6999, 143.1, 605.3, 515.1));
    }

    @Test
    void withoutAmxInt8IsTheFastest() {
        assertEquals(Precision.INT8, fastest(0.8829, 0.8829, 0.8817, 80.0, 120.0, 240.0));
    }

    @Test
    void aPrecisionMoreThanOnePointBelowIsPassedOver() {
        assertEquals(Precision.BF16, fastest(0.90, 0.895, 0.8899, 80.0, 120.0, 240.0));
        assertEquals(Precision.FP32, fastest(0.90, 0.8899, 0.85, 80.0, 120.0, 240.0));
    }

    @Test
    void exactlyOnePointBelowCounts() {
        assertEquals(Precision.INT8, fastest(0.70, 0.70, 0.69, 80.0, 120.0, 240.0));
    }

    @Test
    void fp32StaysWhenNothingIsFaster() {
        assertEquals(Precision.FP32, fastest(0.90, 0.90, 0.90, 200.0, 120.0, 150.0));
    }
}
