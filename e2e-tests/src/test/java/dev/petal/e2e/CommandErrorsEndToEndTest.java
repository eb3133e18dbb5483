package dev.petal.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A user's common mistakes, through the launcher: each command says in one line what went wrong and
 * what to do, with exit code 1 (or 2 for a mistake in the flags), and never prints a stack trace. Kafka and
 * object storage are pointed at a port where nothing listens.
 */
class CommandErrorsEndToEndTest {
    private static Path root;
    private static Path state;
    private static Path image;

    @BeforeAll
    static void paths() throws Exception {
        root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("petal"))) {
            root = root.getParent();
        }
        state = Files.createTempDirectory("petal-errors-");
        image = Files.write(state.resolve("pixel.png"), java.util.Base64.getDecoder().decode(
                "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"));
    }

    static Stream<Arguments> mistakes() {
        return Stream.of(
                Arguments.of(1, "cannot use object storage", List.of("train")),
                Arguments.of(2, "Invalid value", List.of("train", "--epochs", "zero")),
                Arguments.of(2, "Unknown option", List.of("train", "--no-such-flag")),
                // Reached through a prefix of the launcher's: the help it points at is a command that exists.
                Arguments.of(2, "See './petal inference serve --help'", List.of("inference", "serve", "--no-such-flag")),
                Arguments.of(2, "See './petal trainer serve --help'", List.of("trainer", "serve", "--no-such-flag")),
                Arguments.of(2, "--epochs must be between 1 and 1000", List.of("train", "--epochs", "0")),
                Arguments.of(2, "unknown architecture 'resnet19'", List.of("train", "--arch", "resnet19")),
                Arguments.of(1, "Kafka", List.of("ingest", "images", "IMAGE")),
                Arguments.of(2, "no such file or directory", List.of("ingest", "images", "/no/such/file.jpg")),
                Arguments.of(2, "/no/such/model is none of these", List.of("classify", "IMAGE", "--model", "/no/such/model")),
                Arguments.of(1, "Kafka", List.of("predictions", "--count", "1", "--broker-timeout", "5")));
    }

    @ParameterizedTest(name = "petal {2}")
    @MethodSource("mistakes")
    void aMistakeIsOneLineWithoutAStackTrace(int exit, String says, List<String> args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(root.resolve("petal").toString());
        args.forEach(a -> command.add(a.equals("IMAGE") ? image.toString() : a));
        Path log = Files.createTempFile(state, "run-", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PETAL_STATE_DIR", state.toString());
        pb.environment().put("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9");
        pb.environment().put("PETAL_S3_ENDPOINT", "http://127.0.0.1:9");
        pb.environment().put("PETAL_S3_ACCESS_KEY", "nobody");
        pb.environment().put("PETAL_S3_SECRET_KEY", "nothing-to-see");
        pb.environment().put("PETAL_INGEST_BROKER_TIMEOUT", "5");
        Process process = pb.start();
        assertTrue(process.waitFor(300, TimeUnit.SECONDS), "petal " + args + " finished");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println("$ petal " + String.join(" ", args) + " -> " + process.exitValue() + "\n" + output);
        assertEquals(exit, process.exitValue(), output);
        assertTrue(output.contains(says), "says '" + says + "':\n" + output);
        assertFalse(output.contains("\tat ") || output.contains("Exception in thread"), "no stack trace:\n" + output);
        assertFalse(output.contains("nothing-to-see"), "no secret in the output:\n" + output);
        assertTrue(output.lines().filter(l -> l.startsWith("petal ")).count() <= 1 && output.lines().count() <= 4,
                "one line (and, for a flag, where the help is):\n" + output);
    }
}
