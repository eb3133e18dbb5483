package dev.petal.ingest.cli;

import dev.petal.ingest.ArchiveDownload;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./petal ingest download flowers}: fetches, checks and unpacks TensorFlow's flower_photos. */
@Command(
        name = "download",
        mixinStandardHelpOptions = true,
        description = {
            "Download a public dataset archive, check its size and sha256, and unpack it.",
            "Prints the folder to pass to 'ingest dataset'. Exit code 1 when the download or a check fails."})
public class DownloadCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DownloadCommand.class);

    /** The datasets this command knows. */
    public enum Dataset { flowers }

    @Parameters(index = "0", paramLabel = "DATASET", description = "Which dataset: ${COMPLETION-CANDIDATES}.")
    Dataset which;

    @Option(names = "--to", paramLabel = "DIR", defaultValue = ".petal/datasets", description = "Where to unpack (default: ${DEFAULT-VALUE}).")
    Path to;

    @Option(names = "--url", description = "Archive address (default: TensorFlow's flower_photos.tgz).")
    URI url = ArchiveDownload.FLOWERS_URL;

    @Option(names = "--size", description = "Expected size in bytes, -1 to skip the check (default: ${DEFAULT-VALUE}).")
    long size = ArchiveDownload.FLOWERS_SIZE;

    @Option(names = "--sha256", description = "Expected sha256 (hex), 'none' to skip the check (default: ${DEFAULT-VALUE}).")
    String sha256 = ArchiveDownload.FLOWERS_SHA256;

    @Option(names = "--connect-timeout", defaultValue = "10", description = "Seconds to wait for a connection (default: ${DEFAULT-VALUE}).")
    int connectTimeoutSeconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        JsonOut out = new JsonOut(System.out);
        try {
            ArchiveDownload.Result result = new ArchiveDownload(Duration.ofSeconds(connectTimeoutSeconds), Duration.ofSeconds(5))
                    .fetch(url, size, "none".equalsIgnoreCase(sha256) ? null : sha256, to);
            out.print(out.event("downloaded").put("dataset", which.name()).put("url", url.toString())
                    .put("bytes", result.bytes()).put("sha256", result.sha256()).put("files", result.files())
                    .put("path", result.root().toString()));
            LOG.info("unpacked {} files to {}; next: ./petal ingest dataset {}", result.files(), result.root(), result.root());
            return 0;
        } catch (ArchiveDownload.DownloadException e) {
            spec.commandLine().getErr().println("petal ingest: " + e.getMessage());
            return 1;
        }
    }
}
