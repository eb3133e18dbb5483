package dev.petal.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.petal.common.model.Precision;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** precision-check's suggestion: the fastest precision within one point of fp32's top-1 accuracy. */
class FastestPrecisionTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        // case, accuracy fp32/bf16/int8, images/s fp32/bf16/int8, expected
        "with AMX bf16 outruns int8 (the Intel host's flowers model),  0.7024, 0.7011, 0.6999, 143.1, 605.3, 515.1, BF16",
        "without AMX int8 is the fastest,                              0.8829, 0.8829, 0.8817,  80.0, 120.0, 240.0, INT8",
        "int8 more than a point below is passed over,                  0.90,   0.895,  0.8899,  80.0, 120.0, 240.0, BF16",
        "both more than a point below: fp32,                           0.90,   0.8899, 0.85,    80.0, 120.0, 240.0, FP32",
        "exactly one point below counts,                               0.70,   0.70,   0.69,    80.0, 120.0, 240.0, INT8",
        "fp32 stays when nothing is faster,                            0.90,   0.90,   0.90,   200.0, 120.0, 150.0, FP32"})
    void fastestWithinOnePoint(String name, double fp32, double bf16, double int8, double fp32Speed, double bf16Speed,
            double int8Speed, Precision expected) {
        assertEquals(expected, PrecisionCheckCommand.fastestWithinOnePoint(
                Map.of(Precision.FP32, fp32, Precision.BF16, bf16, Precision.INT8, int8),
                Map.of(Precision.FP32, fp32Speed, Precision.BF16, bf16Speed, Precision.INT8, int8Speed)));
    }
}
