package dev.petal.trainer.cli;

import io.quarkus.runtime.Quarkus;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** The trainer as a service: POST /train starts a run; health and metrics; runs until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run as a service: POST /train (JSON recipe overrides) starts a run; GET /train shows the last one.")
public class ServeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        Quarkus.waitForExit();
        return 0;
    }
}
