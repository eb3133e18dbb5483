package dev.petal.common.cli;

import dev.petal.common.model.Precision;
import picocli.CommandLine.Option;

/**
 * Where and in what number format a network runs, declared once for every command that computes
 * ({@code @Mixin ComputeOptions compute}). Null when not given: each command says its default.
 */
public final class ComputeOptions {
    @Option(names = "--device", paramLabel = "DEVICE", description = "cpu, gpu or auto.")
    String device;

    @Option(names = "--precision", paramLabel = "PRECISION", converter = ParsedBy.PrecisionName.class,
            description = "fp32; bf16: faster on CPUs with AVX-512 BF16 or AMX (training: mixed precision, fp32 weights);"
                    + " or int8 (scoring only): ONNX Runtime's integer kernels, calibrated by the trainer.")
    Precision precision;

    public String device(String fallback) {
        return device != null ? device : fallback;
    }

    public Precision precision(Precision fallback) {
        return precision != null ? precision : fallback;
    }
}
