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

import dev.petal.localstack.auth.KafkaUsers;

/**
 * Runs the local stack until the process is told to stop (SIGTERM, Ctrl-C).
 *
 * <pre>
 * java -jar local-stack/target/petal-local-stack-0.1.0-SNAPSHOT.jar [STATE_DIR] [--kafka-port N] [--s3-port N]
 *     [--secure] [--bind ADDRESS]
 * </pre>
 *
 * STATE_DIR defaults to {@code .petal}; ports default to free ones; the servers listen on 127.0.0.1 unless
 * {@code --bind} says otherwise; {@code --secure} makes Kafka clients authenticate (SCRAM) and holds them to
 * ACLs ({@link LocalStack#start(Path, int, int, Listening, boolean)}). Prints one line per address and writes
 * them, with the client configuration (never a password), to {@code STATE_DIR/stack.properties}, which is
 * removed again on a clean shutdown.
 */
public final class LocalStackMain {

    public static final String PROPERTIES_FILE = "stack.properties";
    private static final String USAGE = "usage: LocalStackMain [STATE_DIR] [--kafka-port N] [--s3-port N] [--secure] [--bind ADDRESS]";

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
        boolean secure = false;
        Listening listening = Listening.LOOPBACK;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--kafka-port" -> kafkaPort = parsePort(args, ++i);
                case "--s3-port" -> s3Port = parsePort(args, ++i);
                case "--secure" -> secure = true;
                case "--bind" -> {
                    if (++i >= args.length) {
                        usageError("--bind needs an address");
                    }
                    try {
                        listening = Listening.on(args[i]);
                    } catch (IllegalArgumentException e) {
                        usageError(e.getMessage());
                    }
                }
                case "-h", "--help" -> {
                    System.out.println(USAGE);
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

        LocalStack stack = LocalStack.start(stateDir, kafkaPort, s3Port, listening, secure);
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
        if (stack.isSecure()) {
            System.out.println("kafka: SCRAM-SHA-512 and ACLs; the principals' passwords are in "
                    + stack.stateDir().resolve(LocalStack.AUTH_DIR).resolve(KafkaUsers.FILE));
        }
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
            // How it runs: clients need to know (SASL), and ./petal up refuses to mix modes.
            out.write("secure=" + stack.isSecure() + "\n");
            out.write("bind=" + stack.listening().bindAddress() + "\n");
            out.write("host=" + stack.listening().advertisedHost() + "\n");
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
        System.err.println(USAGE);
        System.exit(2);
    }
}
