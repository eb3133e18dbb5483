package dev.petal.localstack;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the local stack until the process is told to stop (SIGTERM, Ctrl-C).
 *
 * <pre>
 * java -jar local-stack/target/petal-local-stack-0.1.0-SNAPSHOT.jar [STATE_DIR] [--kafka-port N] [--s3-port N]
 * </pre>
 *
 * STATE_DIR defaults to {@code .petal}; ports default to free ones. Prints one line per address
 * and writes them, with the client configuration, to {@code STATE_DIR/stack.properties}, which
 * is removed again on a clean shutdown.
 */
public final class LocalStackMain {

    public static final String PROPERTIES_FILE = "stack.properties";

    private LocalStackMain() {
    }

    public static void main(String[] args) throws Exception {
        // The broker touches log4j-api once; with no log4j-core here, use its built-in quiet provider.
        if (System.getProperty("log4j.provider") == null) {
            System.setProperty("log4j.provider", "org.apache.logging.log4j.simple.internal.SimpleProvider");
        }
        Path stateDir = Path.of(".petal");
        int kafkaPort = 0;
        int s3Port = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--kafka-port" -> kafkaPort = parsePort(args, ++i);
                case "--s3-port" -> s3Port = parsePort(args, ++i);
                case "-h", "--help" -> {
                    System.out.println("usage: LocalStackMain [STATE_DIR] [--kafka-port N] [--s3-port N]");
                    return;
                }
                default -> {
                    if (args[i].startsWith("-")) {
                        usageError("unknown option " + args[i]);
                    }
                    stateDir = Path.of(args[i]);
                }
            }
        }

        LocalStack stack = LocalStack.start(stateDir, kafkaPort, s3Port);
        Path propertiesFile = stack.stateDir().resolve(PROPERTIES_FILE);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                stack.close();
                Files.deleteIfExists(propertiesFile);
            } catch (IOException | RuntimeException e) {
                System.err.println("local stack: unclean shutdown: " + e);
            } finally {
                stopped.countDown();
            }
        }, "petal-local-stack-shutdown"));

        writeProperties(stack, propertiesFile);
        System.out.println("kafka: " + stack.bootstrapServers());
        System.out.println("s3: " + stack.s3().endpoint());
        System.out.println("bucket: " + stack.s3Settings().bucket());
        System.out.flush();
        stopped.await();
    }

    /** The addresses plus every client configuration key, written atomically. */
    static void writeProperties(LocalStack stack, Path file) throws IOException {
        Path tmp = file.resolveSibling(PROPERTIES_FILE + ".tmp");
        try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            out.write("# The running Petal local stack; removed when it stops.\n");
            out.write("pid=" + ProcessHandle.current().pid() + "\n");
            out.write("kafka=" + stack.bootstrapServers() + "\n");
            out.write("s3=" + stack.s3().endpoint() + "\n");
            out.write("bucket=" + stack.s3Settings().bucket() + "\n");
            for (Map.Entry<String, String> entry : new TreeMap<>(stack.clientConfig()).entrySet()) {
                out.write(entry.getKey() + "=" + entry.getValue() + "\n");
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static int parsePort(String[] args, int i) {
        if (i >= args.length) {
            usageError(args[i - 1] + " needs a port number");
        }
        try {
            return Integer.parseInt(args[i]);
        } catch (NumberFormatException e) {
            usageError("not a port number: " + args[i]);
            return -1;
        }
    }

    private static void usageError(String message) {
        System.err.println("local stack: " + message);
        System.err.println("usage: LocalStackMain [STATE_DIR] [--kafka-port N] [--s3-port N]");
        System.exit(2);
    }
}
