package dev.petal.ingest.cli;

import dev.petal.common.cli.UserErrors;
import io.quarkus.picocli.runtime.PicocliCommandLineFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import picocli.CommandLine;

/** The service's command line, with Petal's error reporting (one line; the stack trace with --verbose). */
@ApplicationScoped
class CommandLineSetup {
    @Produces
    CommandLine commandLine(PicocliCommandLineFactory factory) {
        return UserErrors.install(factory.create());
    }
}
