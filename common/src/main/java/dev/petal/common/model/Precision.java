package dev.petal.common.model;

import java.util.Locale;

/** The number format a network computes in. */
public enum Precision {
    /** 32-bit floats, as the network was trained. */
    FP32(6),
    /**
     * bfloat16: float32's range with an 8-bit mantissa. Faster than fp32 on CPUs with AVX-512 BF16 or AMX,
     * slower on CPUs without them (docs/performance.md).
     */
    BF16(15);

    /** libtorch's {@code c10::ScalarType} number, as TorchScript source writes dtypes. */
    final int scalarType;

    Precision(int scalarType) {
        this.scalarType = scalarType;
    }

    /** {@code fp32} or {@code bf16}, any case; anything else fails with the choices. */
    public static Precision parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown precision '" + value + "'; choose fp32 or bf16");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
