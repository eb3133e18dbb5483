package dev.petal.tools;

import dev.petal.tools.soak.SoakCommand;
import io.quarkus.picocli.runtime.annotations.TopCommand;
import picocli.CommandLine.Command;

/**
 * The tools' command line, reached through {@code ./petal bench|soak|precision-check}: they measure the model and
 * the running services from outside, so they live in a jar of their own, not in the services' jars and images.
 */
@TopCommand
@Command(
        name = "petal",
        mixinStandardHelpOptions = true,
        version = "Petal tools 0.1.0",
        description = "Petal tools: the model benchmark, the soak of a running inference service, the precision check.",
        subcommands = {BenchCommand.class, SoakCommand.class, PrecisionCheckCommand.class})
public class ToolsCommand {}
