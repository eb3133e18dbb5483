package dev.petal.inference.cli;

import io.quarkus.picocli.runtime.annotations.TopCommand;
import picocli.CommandLine.Command;

/** The inference service's command line, reached through {@code ./petal}. */
@TopCommand
@Command(
        name = "petal",
        mixinStandardHelpOptions = true,
        version = "Petal inference 0.1.0",
        description = "Petal inference: score images with a trained ResNet.",
        subcommands = {ServeCommand.class, ClassifyCommand.class, PredictionsCommand.class, BenchCommand.class})
public class InferenceCommand {}
