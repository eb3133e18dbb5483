package dev.petal.ingest.cli;

import dev.petal.ingest.ImagesIngest;
import dev.petal.ingest.IngestFailedException;
import dev.petal.ingest.Ingestion;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ./petal ingest images PATH...}: image files to petal.images for scoring. */
@Command(
        name = "images",
        mixinStandardHelpOptions = true,
        description = {
            "Publish image files, or the files under folders, to petal.images for scoring.",
            "The record key is the file's path relative to the argument (its name for a file), or --id.",
            "Files that are not valid images go to petal.dlq with error-class and error-reason headers.",
            "Exit code: 0 all published, 3 some files rejected, 1 ingestion failed."})
public class ImagesCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ImagesCommand.class);

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Image files or folders.")
    List<Path> paths;

    @Option(names = "--id", paramLabel = "ID", description = "Record key for a single file argument.")
    String id;

    @Spec
    CommandSpec spec;

    @Inject
    Ingestion ingestion;

    @Override
    public Integer call() {
        List<ImagesIngest.Input> inputs;
        try {
            inputs = ImagesIngest.expand(paths, id);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        JsonOut out = new JsonOut(System.out);
        ImagesIngest.Report report;
        try {
            report = ingestion.images(ingestion.settings()).run(inputs);
        } catch (IngestFailedException e) {
            spec.commandLine().getErr().println("petal ingest: ingestion failed: " + e.getMessage());
            return 1;
        }
        report.rejections().forEach(r -> {
            LOG.warn("rejected {} (sent to petal.dlq): {} ({})", r.source(), r.rejection().errorClass(), r.rejection().reason());
            out.rejected(r);
        });
        out.summary(report.summary());
        DatasetCommand.logSummary(report.summary());
        return report.summary().exitCode();
    }
}
