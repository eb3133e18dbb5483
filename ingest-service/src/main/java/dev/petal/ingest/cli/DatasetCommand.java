package dev.petal.ingest.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.petal.ingest.DatasetIngest;
import dev.petal.ingest.DatasetReport;
import dev.petal.ingest.IngestFailedException;
import dev.petal.ingest.Ingestion;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./petal ingest dataset DIR}: a class-folder dataset to petal.train. */
@Command(
        name = "dataset",
        mixinStandardHelpOptions = true,
        description = {
            "Publish a class-folder dataset (one sub-folder per class, label = folder name) to petal.train.",
            "Each image is keyed by its sha256, validated, and assigned to train or valid from its content and the seed.",
            "Images already in petal.train are skipped; the same bytes under two labels are reported and not published.",
            "Exit code: 0 all published or already there, 3 some files rejected, 1 ingestion failed."})
public class DatasetCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DatasetCommand.class);

    @Parameters(index = "0", paramLabel = "DIR", description = "The dataset folder.")
    Path dir;

    @Option(names = "--dataset", paramLabel = "NAME", description = "Dataset name for the records (default: the folder's name).")
    String dataset;

    @Option(names = "--valid-fraction", defaultValue = "0.2", description = "Share of images in the valid split (default: ${DEFAULT-VALUE}).")
    double validFraction;

    @Option(names = "--seed", defaultValue = "100", description = "Seed of the split (default: ${DEFAULT-VALUE}).")
    long seed;

    @Spec
    CommandSpec spec;

    @Inject
    Ingestion ingestion;

    @Override
    public Integer call() {
        if (!Files.isDirectory(dir)) {
            throw new ParameterException(spec.commandLine(), dir + " is not a directory");
        }
        if (!(validFraction >= 0 && validFraction <= 1)) {
            throw new ParameterException(spec.commandLine(), "--valid-fraction must be within [0, 1], was " + validFraction);
        }
        JsonOut out = new JsonOut(System.out);
        DatasetReport report;
        try {
            report = ingestion.dataset(ingestion.settings()).run(new DatasetIngest.Options(dir, dataset, validFraction, seed));
        } catch (IngestFailedException e) {
            spec.commandLine().getErr().println("petal ingest: ingestion failed: " + e.getMessage());
            return 1;
        }
        report.ignored().forEach(p -> LOG.info("ignored {} (not inside a class folder)", p));
        report.rejections().forEach(r -> {
            LOG.warn("rejected {}: {} ({})", r.source(), r.rejection().errorClass(), r.rejection().reason());
            out.rejected(r);
        });
        for (DatasetReport.Conflict c : report.conflicts()) {
            LOG.warn("label conflict: the same image (sha256 {}) is {}; none of them was published", c.sha256(), c.sources());
            ObjectNode node = out.event("conflict").put("sha256", c.sha256());
            ObjectNode sources = node.putObject("sources");
            c.sources().forEach(sources::put);
            out.print(node);
        }
        ObjectNode splits = out.event("splits").put("dataset", report.dataset());
        ObjectNode classes = splits.putObject("classes");
        report.splits().forEach((label, counts) -> {
            ObjectNode perClass = classes.putObject(label);
            for (String split : new String[] {"train", "valid"}) {
                perClass.put(split, counts.getOrDefault(split, 0));
            }
        });
        out.print(splits);
        out.summary(report.summary());
        logSummary(report.summary());
        return report.summary().exitCode();
    }

    static void logSummary(dev.petal.ingest.IngestSummary s) {
        LOG.info(String.format(java.util.Locale.ROOT,
                "published %d, skipped %d as duplicate, rejected %d; %.1f MB in %.1f s (%.0f images/s, %.1f MB/s)",
                s.published(), s.duplicates(), s.rejected(), s.bytes() / 1e6, s.seconds(), s.imagesPerSecond(),
                s.megabytesPerSecond()));
    }
}
