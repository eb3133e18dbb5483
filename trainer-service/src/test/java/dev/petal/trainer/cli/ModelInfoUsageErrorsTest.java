package dev.petal.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.cli.UserErrors;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * A mistake in model-info's flags is a usage error (exit code 2, the mistake on stderr, nothing on stdout), on the
 * command line the application builds (CommandLineSetup: the trainer's commands with Petal's error reporting).
 */
class ModelInfoUsageErrorsTest {
    private record Run(int exitCode, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = UserErrors.install(new CommandLine(new TrainerCommand()));
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(args);
        return new Run(exitCode, out.toString(), err.toString());
    }

    @Test
    void unknownArchitectureIsAUsageError() {
        Run run = run("model-info", "--arch", "resnet19");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("unknown architecture 'resnet19'"), run.err());
        assertEquals("", run.out());
    }

    @Test
    void unknownFlagIsAUsageError() {
        Run run = run("model-info", "--no-such-flag");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("Unknown option"), run.err());
        assertEquals("", run.out());
    }
}
