package dev.petal.common.model;

import java.util.Arrays;
import java.util.Locale;

/**
 * Which runtime computes a served model's forward: libtorch (the {@link ServingProgram} training validates with; any
 * device, fp32 or bf16) or ONNX Runtime (the {@link OnnxServingProgram} of the same weights; CPU, fp32 or int8).
 * {@link #AUTO} times both on the loaded model and keeps the faster, where both apply (fp32 on a CPU): which one wins
 * depends on the CPU (docs/performance.md). Int8 runs on ONNX Runtime only, bf16 and GPUs on libtorch only.
 */
public enum ServingRuntime {
    AUTO("auto"),
    LIBTORCH("libtorch"),
    ONNXRUNTIME("onnxruntime");

    private final String id;

    ServingRuntime(String id) {
        this.id = id;
    }

    /** Whether ONNX Runtime can serve a network computing in {@code precision} on {@code device}: fp32 or int8 on a CPU. */
    public static boolean onnxRuntimeServes(Precision precision, ai.djl.Device device) {
        return precision != Precision.BF16 && !device.isGpu();
    }

    /** Whether libtorch can serve {@code precision}: fp32 and bf16. */
    public static boolean libtorchServes(Precision precision) {
        return precision != Precision.INT8;
    }

    /**
     * Why {@code runtime} cannot serve {@code precision} on {@code device}, as one line that says what to give instead;
     * empty where it can.
     */
    public static java.util.Optional<String> refusal(ServingRuntime runtime, Precision precision, ai.djl.Device device) {
        if (precision == Precision.INT8 && device.isGpu()) {
            return java.util.Optional.of("int8 serves on a CPU (ONNX Runtime): give a CPU device, or fp32 or bf16 on the GPU");
        }
        if (runtime == LIBTORCH && !libtorchServes(precision)) {
            return java.util.Optional.of("int8 runs on ONNX Runtime: give the auto or onnxruntime runtime, or fp32 or bf16 on libtorch");
        }
        if (runtime == ONNXRUNTIME && !onnxRuntimeServes(precision, device)) {
            return java.util.Optional.of("ONNX Runtime serves fp32 and int8 on a CPU: choose precision fp32 or int8 and a CPU device, "
                    + "or the libtorch runtime");
        }
        return java.util.Optional.empty();
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
