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
    BF16(15),
    /**
     * 8-bit integers for serving: weights per output channel, activations per tensor over the ranges measured on
     * calibration images ({@link ActivationRanges}). Runs on ONNX Runtime's integer kernels on a CPU, fastest with
     * AVX-512 VNNI or AMX; a network trains in fp32 or bf16 only.
     */
    INT8(-1);

    /** libtorch's {@code c10::ScalarType} number, as TorchScript source writes dtypes. */
    final int scalarType;

    Precision(int scalarType) {
        this.scalarType = scalarType;
    }

    /** Whether a network can train in this precision: fp32 and bf16. */
    public boolean trains() {
        return this != INT8;
    }

    /** {@code fp32}, {@code bf16} or {@code int8}, any case; anything else fails with the choices. */
    public static Precision parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown precision '" + value + "'; choose fp32, bf16 or int8");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
