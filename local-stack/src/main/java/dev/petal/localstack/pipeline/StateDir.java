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

/**
 * The local pipeline's state directory (default {@code .petal/}): the stack's data, the address
 * files the other commands read, and the logs.
 */
public record StateDir(Path root) {
    public static final String STACK_FILE = "stack.properties";
    public static final String SERVICES_FILE = "services.properties";

    public Path logs() {
        return root.resolve("logs");
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

    /** Client configuration (kafka.*, petal.*) of the running stack, as the services' config keys. */
    public Map<String, String> clientConfig() {
        Map<String, String> config = new TreeMap<>();
        stack().ifPresent(props -> props.stringPropertyNames().stream()
                .filter(k -> k.startsWith("kafka.") || k.startsWith("petal."))
                .forEach(k -> config.put(k, props.getProperty(k))));
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
