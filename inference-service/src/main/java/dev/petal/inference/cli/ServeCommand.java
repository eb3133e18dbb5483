package dev.petal.inference.cli;

import dev.petal.inference.InferenceService;
import io.quarkus.runtime.Quarkus;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code petal inference serve}: score petal.images until stopped (SIGTERM finishes the batch in flight). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Score petal.images into petal.predictions, following new model versions; "
                + "HTTP: POST /predict, GET /model; health (/q/health) and metrics (/q/metrics) on the management port"
                + " (quarkus.management.port, 9000).")
public class ServeCommand implements Callable<Integer> {
    private final InferenceService service;

    public ServeCommand(InferenceService service) {
        this.service = service;
    }

    @Override
    public Integer call() {
        service.start();
        Quarkus.waitForExit();
        return 0;
    }
}
