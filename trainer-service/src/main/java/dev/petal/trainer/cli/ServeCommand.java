package dev.petal.trainer.cli;

import dev.petal.trainer.service.AutoRetrain;
import io.quarkus.runtime.Quarkus;
import jakarta.inject.Inject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** The trainer as a service: POST /train starts a run; health and metrics; runs until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run as a service: POST /train (JSON recipe overrides) starts a run; GET /train shows the last one;"
                + " with petal.trainer.auto-retrain-after=N, retrains after N new labelled images.")
public class ServeCommand implements Callable<Integer> {
    @Inject
    AutoRetrain autoRetrain;

    @Override
    public Integer call() {
        autoRetrain.start();
        Quarkus.waitForExit();
        return 0;
    }
}
