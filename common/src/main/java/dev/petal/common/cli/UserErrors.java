package dev.petal.common.cli;

import dev.petal.common.storage.ObjectStoreException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * How every Petal command reports a failure: one line on stderr that says what went wrong and what to
 * do, exit code 1; the stack trace only with {@code --verbose}. A mistake in the flags is picocli's
 * usage error (exit code 2) and never reaches here.
 */
public final class UserErrors implements IExecutionExceptionHandler {
    public static final String VERBOSE = "--verbose";

    /**
     * {@code commandLine} with a {@code --verbose} flag on every command, this handler for failures, and a
     * short report of a mistake in the flags: the mistake, picocli's suggestions for a misspelt option,
     * and where the help is (exit code 2).
     */
    public static CommandLine install(CommandLine commandLine) {
        addVerbose(commandLine);
        return commandLine.setExecutionExceptionHandler(new UserErrors()).setParameterExceptionHandler((mistake, args) -> {
            CommandLine command = mistake.getCommandLine();
            PrintWriter err = command.getErr();
            err.println(commandName(command) + ": " + mistake.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(mistake, err);
            err.println("See './" + commandName(command) + " --help' for the options.");
            err.flush();
            return command.getCommandSpec().exitCodeOnInvalidInput();
        });
    }

    private static void addVerbose(CommandLine commandLine) {
        if (!commandLine.getCommandSpec().optionsMap().containsKey(VERBOSE)) {
            commandLine.getCommandSpec().addOption(OptionSpec.builder(VERBOSE).arity("0")
                    .description("On an error, print its stack trace too.").build());
        }
        commandLine.getSubcommands().values().forEach(UserErrors::addVerbose);
    }

    @Override
    public int handleExecutionException(Exception exception, CommandLine commandLine, ParseResult parseResult) {
        PrintWriter err = commandLine.getErr();
        err.println(commandName(commandLine) + ": " + message(exception));
        if (verbose(parseResult)) {
            exception.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    private static boolean verbose(ParseResult parseResult) {
        for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption(VERBOSE)) {
                return true;
            }
        }
        return false;
    }

    /** {@code petal train}, {@code petal ingest dataset}: the command as the user typed it. */
    private static String commandName(CommandLine commandLine) {
        String name = commandLine.getCommandSpec().qualifiedName(" ");
        return name.startsWith("petal") ? name : "petal " + name;
    }

    /** The one line for {@code exception}: its own message where it speaks to the user, else what kind of failure it was. */
    public static String message(Throwable exception) {
        Throwable kafka = find(exception, "org.apache.kafka.common.KafkaException");
        if (kafka != null) {
            return "cannot use Kafka: " + text(kafka) + "; is the broker running (./petal up, ./petal status)"
                    + " and KAFKA_BOOTSTRAP_SERVERS right?";
        }
        Throwable storage = find(exception, ObjectStoreException.class.getName());
        if (storage == null) {
            storage = find(exception, "software.amazon.awssdk.core.exception.SdkClientException");
        }
        if (storage != null) {
            if (String.valueOf(find(exception, "software.amazon.awssdk.core.exception.SdkClientException")).contains("Unable to load credentials")) {
                return "no object storage is configured (no endpoint or credentials): start the local stack with ./petal up,"
                        + " or set PETAL_S3_ENDPOINT, PETAL_S3_ACCESS_KEY and PETAL_S3_SECRET_KEY (docs/configuration.md)";
            }
            return "cannot use object storage: " + text(storage) + "; is it running (./petal up, ./petal status)"
                    + " and PETAL_S3_ENDPOINT right?";
        }
        Throwable cause = exception;
        while (cause.getCause() != null && (cause.getMessage() == null || cause instanceof UncheckedIOException)) {
            cause = cause.getCause();
        }
        if (cause instanceof IllegalArgumentException || cause instanceof IllegalStateException
                || cause instanceof UncheckedIOException || cause.getClass().getName().startsWith("dev.petal.")) {
            return text(cause);
        }
        return cause.getClass().getSimpleName() + ": " + text(cause) + " (rerun with " + VERBOSE + " for the stack trace)";
    }

    private static Throwable find(Throwable exception, String className) {
        for (Throwable t = exception; t != null; t = t.getCause()) {
            for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
                if (c.getName().equals(className)) {
                    return t;
                }
            }
        }
        return null;
    }

    /** The first line of the message, at most 300 characters: a library's message can run to pages. */
    private static String text(Throwable t) {
        String message = t.getMessage();
        String line = message == null || message.isBlank() ? t.getClass().getSimpleName() : message.strip().lines().findFirst().orElse("");
        return line.length() <= 300 ? line : line.substring(0, 297) + "...";
    }
}
