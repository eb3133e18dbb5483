package dev.petal.common.model;

import java.util.Arrays;
import java.util.Locale;

/**
 * Which runtime computes a served model's forward: libtorch (the {@link ServingProgram} training validates with; any
 * device, fp32 or bf16) or ONNX Runtime (the {@link OnnxServingProgram} of the same weights; CPU, fp32). {@link #AUTO}
 * times both on the loaded model and keeps the faster, where both apply: which one wins depends on the CPU
 * (docs/performance.md).
 */
public enum ServingRuntime {
    AUTO("auto"),
    LIBTORCH("libtorch"),
    ONNXRUNTIME("onnxruntime");

    private final String id;

    ServingRuntime(String id) {
        this.id = id;
    }

    /** Whether ONNX Runtime can serve a network computing in {@code precision} on {@code device}: fp32 on a CPU. */
    public static boolean onnxRuntimeServes(Precision precision, ai.djl.Device device) {
        return precision == Precision.FP32 && !device.isGpu();
    }

    public String id() {
        return id;
    }

    /** The runtime named {@code text} ({@code auto}, {@code libtorch} or {@code onnxruntime}); one line saying what to give otherwise. */
    public static ServingRuntime parse(String text) {
        String wanted = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        for (ServingRuntime r : values()) {
            if (r.id.equals(wanted)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown serving runtime '" + text + "': give one of "
                + String.join(", ", Arrays.stream(values()).map(ServingRuntime::id).toList()));
    }

    @Override
    public String toString() {
        return id;
    }
}
