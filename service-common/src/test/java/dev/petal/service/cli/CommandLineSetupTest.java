package dev.petal.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.cli.UserErrors;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * A service reached through a prefix of the launcher's ({@code ./petal inference serve}) names that command in its
 * usage and error lines, not the service's bare top command ({@code petal serve}, which does not exist).
 */
class CommandLineSetupTest {
    @Command(name = "petal", mixinStandardHelpOptions = true, subcommands = Serve.class)
    static class Top {}

    @Command(name = "serve", mixinStandardHelpOptions = true)
    static class Serve implements Runnable {
        @Override
        public void run() {}
    }

    private static String[] run(Optional<String> name, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = UserErrors.install(CommandLineSetup.named(new CommandLine(new Top()), name));
        commandLine.setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int exit = commandLine.execute(args);
        return new String[] {String.valueOf(exit), out.toString(), err.toString()};
    }

    @Test
    void aMistakePointsAtTheHelpOfTheCommandAsTyped() {
        String[] result = run(Optional.of("petal inference"), "serve", "--no-such-flag");
        assertEquals("2", result[0]);
        assertTrue(result[2].startsWith("petal inference serve: Unknown option: '--no-such-flag'"), result[2]);
        assertTrue(result[2].contains("See './petal inference serve --help' for the options."), result[2]);
    }

    @Test
    void theUsageLineIsTheCommandAsTyped() {
        String[] result = run(Optional.of("petal trainer"), "serve", "--help");
        assertEquals("0", result[0]);
        assertTrue(result[1].startsWith("Usage: petal trainer serve "), result[1]);
    }

    @Test
    void withoutANameTheTopCommandKeepsItsOwn() {
        String[] result = run(Optional.empty(), "serve", "--help");
        assertTrue(result[1].startsWith("Usage: petal serve "), result[1]);
        result = run(Optional.of("  "), "serve", "--help");
        assertTrue(result[1].startsWith("Usage: petal serve "), result[1]);
    }
}
