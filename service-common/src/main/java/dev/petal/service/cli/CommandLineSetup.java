package dev.petal.service.cli;

import dev.petal.common.cli.UserErrors;
import io.quarkus.picocli.runtime.PicocliCommandLineFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import picocli.CommandLine;

/** Every Quarkus app's command line (the services and the tools), with Petal's error reporting (one line; the stack trace with --verbose). */
@ApplicationScoped
class CommandLineSetup {
    @Produces
    CommandLine commandLine(PicocliCommandLineFactory factory) {
        return UserErrors.install(factory.create());
    }
}
