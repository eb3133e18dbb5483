package dev.petal.service.cli;

import dev.petal.common.cli.UserErrors;
import io.quarkus.picocli.runtime.PicocliCommandLineFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import picocli.CommandLine;

/**
 * Every Quarkus app's command line (the services and the tools), with Petal's error reporting (one line; the stack
 * trace with --verbose), named as the user reached it.
 */
@ApplicationScoped
class CommandLineSetup {
    /**
     * The command as typed up to the app's own subcommands, when the launcher reaches the app through a prefix of its
     * own ({@code petal inference}, {@code petal trainer}): usage and error lines then name a command that exists.
     */
    @ConfigProperty(name = "petal.cli.name")
    Optional<String> name;

    @Produces
    CommandLine commandLine(PicocliCommandLineFactory factory) {
        return UserErrors.install(named(factory.create(), name));
    }

    static CommandLine named(CommandLine commandLine, Optional<String> name) {
        name.map(String::strip).filter(n -> !n.isEmpty()).ifPresent(commandLine::setCommandName);
        return commandLine;
    }
}
