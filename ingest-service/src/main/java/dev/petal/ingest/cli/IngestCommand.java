package dev.petal.ingest.cli;

import io.quarkus.picocli.runtime.annotations.TopCommand;
import picocli.CommandLine.Command;

/** The ingest service's command line, reached through {@code ./petal ingest}. */
@TopCommand
@Command(
        name = "petal ingest",
        mixinStandardHelpOptions = true,
        version = "Petal ingest 0.1.0",
        description = "Petal ingest: publish datasets and images to Kafka.",
        subcommands = {DatasetCommand.class, ImagesCommand.class, DownloadCommand.class, ServeCommand.class})
public class IngestCommand {}
