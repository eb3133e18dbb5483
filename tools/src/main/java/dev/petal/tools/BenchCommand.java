package dev.petal.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.bench.ModelBenchmark;
import dev.petal.common.cli.ComputeOptions;
import dev.petal.common.cli.ModelOptions;
import dev.petal.common.model.NetworkSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.ServingRuntime;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ./petal bench train|infer}: the model's steady-state speed on random input, one JSON line; {@code bench data-path}: the images' path. */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = DataPathBenchCommand.class,
        description = "Steady-state images/s and peak memory of the model alone (warm-up first); compare with bench/compare.py."
                + " bench data-path: decoding and preprocessing alone.")
public class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", converter = ModeConverter.class, description = "train or infer")
    ModelBenchmark.Mode mode;

    /** {@code train} or {@code infer}, any case; anything else is a usage error. */
    static final class ModeConverter implements ITypeConverter<ModelBenchmark.Mode> {
        @Override
        public ModelBenchmark.Mode convert(String value) {
            try {
                return ModelBenchmark.Mode.valueOf(value.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not train or infer");
            }
        }
    }
    @Mixin
    ModelOptions model;
    @Mixin
    ComputeOptions compute;
    @Option(names = "--batch-size", defaultValue = "32")
    int batchSize;
    @Option(names = "--steps", defaultValue = "10")
    int steps;
    @Option(names = "--warmup", defaultValue = "3")
    int warmup;
    @Option(names = "--runtime", defaultValue = "auto", paramLabel = "RUNTIME",
            description = "infer: auto (the faster for this network on this CPU, as the inference service picks), libtorch or"
                    + " onnxruntime (fp32 or int8 on a CPU; int8 runs nowhere else, calibrated on the random input) (default: ${DEFAULT-VALUE}).")
    String runtime;
    @Option(names = "--profile", paramLabel = "FILE",
            description = "Also write a Chrome trace of the timed steps (libtorch's profiler) to FILE; the timing then includes its overhead.")
    java.nio.file.Path profile;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (mode == null) {
            throw new ParameterException(spec.commandLine(), "say what to measure: train, infer or data-path");
        }
        NetworkSpec network;
        try {
            network = model.network();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        ServingRuntime servingRuntime;
        try {
            servingRuntime = ServingRuntime.parse(runtime);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        System.out.println(new ObjectMapper().writeValueAsString(ModelBenchmark.run(new ModelBenchmark.Options(mode, network, batchSize,
                steps, warmup, compute.device("cpu"), compute.precision(Precision.FP32), servingRuntime, profile))));
        return 0;
    }
}
