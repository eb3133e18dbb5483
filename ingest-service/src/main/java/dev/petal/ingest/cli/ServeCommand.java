package dev.petal.ingest.cli;

import io.quarkus.runtime.Quarkus;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Runs ingest as a service: HTTP uploads to petal.images, health and metrics, until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run as a service: POST /images publishes an image for scoring; health (/q/health) and metrics"
                + " (/q/metrics) on the management port (quarkus.management.port, 9000).")
public class ServeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        Quarkus.waitForExit();
        return 0;
    }
}
