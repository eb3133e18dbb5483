package dev.petal.localstack.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

import dev.petal.localstack.LocalStack;
import dev.petal.localstack.auth.KafkaUsers;

/**
 * The local pipeline's state directory (default {@code .petal/}): the stack's data, the address
 * files the other commands read, the logs, and {@code auth/} (the token key pair, the Kafka users' passwords).
 */
public record StateDir(Path root) {
    public static final String STACK_FILE = "stack.properties";
    public static final String SERVICES_FILE = "services.properties";
    private static final String LOOPBACK = "127.0.0.1";

    public Path logs() {
        return root.resolve("logs");
    }

    /** Secrets (mode 700): the token key pair, the Kafka principals' passwords. */
    public Path authDir() {
        return root.resolve(LocalStack.AUTH_DIR);
    }

    /** Whether the running stack holds Kafka clients to SCRAM logins and ACLs ({@code ./petal up --secure}). */
    public boolean secure() {
        return stack().map(p -> Boolean.parseBoolean(p.getProperty("secure", "false"))).orElse(false);
    }

    /** The address clients reach the running stack and its services at (127.0.0.1 unless {@code --bind} said otherwise). */
    public String host() {
        return stack().map(p -> p.getProperty("host", LOOPBACK)).orElse(LOOPBACK);
    }

    /** The Kafka principals of a secure stack. */
    public KafkaUsers kafkaUsers() {
        return KafkaUsers.find(authDir()).orElseThrow(() -> new IllegalStateException("the stack is secure but "
                + authDir().resolve(KafkaUsers.FILE) + " is missing or incomplete; ./petal down, then ./petal up --secure"));
    }

    public Path stackFile() {
        return root.resolve(STACK_FILE);
    }

    public Path servicesFile() {
        return root.resolve(SERVICES_FILE);
    }

    public Optional<Properties> stack() {
        return read(stackFile());
    }

    public Optional<Properties> services() {
        return read(servicesFile());
    }

    /**
     * Client configuration (kafka.*, petal.*) of the running stack, as the services' config keys; on a secure stack
     * with the login of the stack's admin ({@code kafka.sasl.jaas.config}, a secret: never on a command line).
     */
    public Map<String, String> clientConfig() {
        Map<String, String> config = new TreeMap<>();
        stack().ifPresent(props -> props.stringPropertyNames().stream()
                .filter(k -> k.startsWith("kafka.") || k.startsWith("petal."))
                .forEach(k -> config.put(k, props.getProperty(k))));
        if (secure()) {
            config.putAll(kafkaUsers().clientConfig(KafkaUsers.ADMIN));
        }
        return config;
    }

    public void writeServices(Map<String, String> values) throws IOException {
        Files.createDirectories(root);
        Path tmp = servicesFile().resolveSibling(SERVICES_FILE + ".tmp");
        try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            out.write("# Petal services started by ./petal up; removed by ./petal down.\n");
            for (Map.Entry<String, String> e : new TreeMap<>(values).entrySet()) {
                out.write(e.getKey() + "=" + e.getValue() + "\n");
            }
        }
        Files.move(tmp, servicesFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Optional<Properties> read(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            props.load(in);
            return Optional.of(props);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public static boolean alive(String pid) {
        try {
            return pid != null && ProcessHandle.of(Long.parseLong(pid.trim())).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
