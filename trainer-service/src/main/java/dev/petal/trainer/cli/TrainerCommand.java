package dev.petal.trainer.cli;

import io.quarkus.picocli.runtime.annotations.TopCommand;
import picocli.CommandLine.Command;

/** The trainer's command line, reached through {@code ./petal}. */
@TopCommand
@Command(
        name = "petal",
        mixinStandardHelpOptions = true,
        version = "Petal trainer 0.1.0",
        description = "Petal trainer: build, inspect and train ResNet classifiers.",
        subcommands = {TrainCommand.class, ServeCommand.class, RetrainCommand.class, ModelInfoCommand.class,
            WeightsCommand.class, ModelCommand.class, DlqCommand.class})
public class TrainerCommand {}
