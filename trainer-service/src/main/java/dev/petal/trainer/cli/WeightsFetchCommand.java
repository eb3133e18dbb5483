package dev.petal.trainer.cli;

import dev.petal.common.checkpoint.TorchvisionDownloads;
import dev.petal.common.cli.ParsedBy;
import dev.petal.common.model.Architecture;
import dev.petal.trainer.weights.WeightsDownloader;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ./petal weights fetch resnet50}: downloads torchvision's ImageNet-1K V1 weights for one depth into
 * the local cache (or {@code --to DIR}), checked against the sha256 prefix in the file's name, and prints
 * its path. Exit code 1, with one line saying why, when the download or the check fails.
 */
@Command(name = "fetch", mixinStandardHelpOptions = true,
        description = {"Download torchvision's ImageNet-1K V1 weights for one ResNet depth from download.pytorch.org"
                + " (needs internet), check the sha256 its name carries, and print the file's path.",
                "Then: ./petal train --init-weights torchvision:<arch>. Exit code 1 when the download or the check fails."})
public class WeightsFetchCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ARCH", converter = ParsedBy.ArchitectureName.class,
            description = "resnet18, resnet34, resnet50, resnet101 or resnet152.")
    Architecture arch;

    @Option(names = "--to", paramLabel = "DIR", description = "Where to write the file (default: the cache that"
            + " torchvision:<arch> reads: $PETAL_CACHE_DIR/weights, else ${XDG_CACHE_HOME:-~/.cache}/petal/weights).")
    Path to;

    /** For tests: a local server in place of download.pytorch.org. */
    @Option(names = "--base-url", hidden = true)
    String baseUrl = TorchvisionDownloads.BASE_URL;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "20",
            description = "Seconds to wait for a connection (default: ${DEFAULT-VALUE}).")
    int connectTimeoutSeconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        Path dir = to != null ? to : TorchvisionDownloads.cacheDir();
        String fileName = TorchvisionDownloads.fileName(arch);
        Path target = dir.resolve(fileName);
        URI url = TorchvisionDownloads.url(baseUrl, fileName);
        try {
            if (WeightsDownloader.isVerified(target)) {
                err.println("petal weights: " + target + " is there already, sha256 checked");
                return done(target);
            }
        } catch (IOException e) {
            // unreadable: download it again over it
        }
        err.println("petal weights: downloading " + url);
        err.flush();
        try {
            Path written = new WeightsDownloader(Duration.ofSeconds(connectTimeoutSeconds), Duration.ofMinutes(10))
                    .fetch(url, dir, fileName, new TenthsOnStderr(err));
            return done(written);
        } catch (WeightsDownloader.DownloadException e) {
            if (e.network()) {
                err.println("petal weights: cannot download " + url + ": " + e.getMessage() + "; this command needs"
                        + " internet access to " + url.getHost() + "; copy " + fileName + " into " + dir + " instead");
            } else {
                err.println("petal weights: " + e.getMessage());
            }
            return 1;
        }
    }

    private int done(Path file) {
        spec.commandLine().getOut().println(file);
        spec.commandLine().getErr().println("petal weights: use it with ./petal train --init-weights "
                + (to == null ? TorchvisionDownloads.SCHEME + arch.id() : file.toString()));
        return 0;
    }

    /** A line per tenth of the download (or per 16 MB when the size is unknown): readable in logs and terminals. */
    private static final class TenthsOnStderr implements WeightsDownloader.Progress {
        private final PrintWriter err;
        private long reported = -1;

        TenthsOnStderr(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void update(long received, long total) {
            long step = total > 0 ? received * 10 / total : received >> 24;
            if (step == reported) {
                return;
            }
            reported = step;
            if (total > 0) {
                err.println(String.format(Locale.ROOT, "  %3d%%  %.1f of %.1f MB", step * 10, received / 1e6, total / 1e6));
            } else {
                err.println(String.format(Locale.ROOT, "  %.1f MB", received / 1e6));
            }
            err.flush();
        }
    }
}
