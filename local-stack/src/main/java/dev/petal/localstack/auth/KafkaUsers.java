package dev.petal.localstack.auth;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The secure local stack's Kafka principals ({@code ./petal up --secure}): one per service, as in production
 * (docs/security.md, "Kafka principals"), and {@value #ADMIN}, the stack's own super user, which creates topics,
 * credentials and ACLs and which the commands you run use. Their passwords are made once and kept in
 * {@code .petal/auth/}{@value #FILE} (mode 600); never in a log, an error or a command line.
 */
public final class KafkaUsers {
    public static final String ADMIN = "petal-admin";
    public static final String INGEST = "petal-ingest";
    public static final String TRAINER = "petal-trainer";
    public static final String INFERENCE = "petal-inference";
    /** The web console: reads predictions, dead letters and scored images, and the scoring group's offsets; writes nothing. */
    public static final String CONSOLE = "petal-console";
    public static final List<String> ALL = List.of(ADMIN, INGEST, TRAINER, INFERENCE, CONSOLE);
    public static final String FILE = "kafka-users.properties";
    /** What clients authenticate with on the client listener. */
    public static final String MECHANISM = "SCRAM-SHA-512";
    public static final String SECURITY_PROTOCOL = "SASL_PLAINTEXT";

    private final Map<String, String> passwords;

    private KafkaUsers(Map<String, String> passwords) {
        this.passwords = Map.copyOf(passwords);
    }

    /** The principal a service of the local pipeline runs as: {@code ingest} is {@value #INGEST}. */
    public static String principalOf(String service) {
        String principal = "petal-" + service;
        if (!ALL.contains(principal) || principal.equals(ADMIN)) {
            throw new IllegalArgumentException("no Kafka principal for a service called '" + service + "'");
        }
        return principal;
    }

    /** The users under {@code authDir}, made there first (or completed) if needed. */
    public static KafkaUsers ensure(Path authDir) {
        Path file = authDir.resolve(FILE);
        Map<String, String> passwords = new LinkedHashMap<>(read(file));
        boolean changed = false;
        SecureRandom random = new SecureRandom();
        for (String user : ALL) {
            if (!passwords.containsKey(user)) {
                byte[] secret = new byte[24];
                random.nextBytes(secret);
                // base64url: nothing a JAAS string or a shell would need to quote
                passwords.put(user, Base64.getUrlEncoder().withoutPadding().encodeToString(secret));
                changed = true;
            }
        }
        if (changed) {
            write(authDir, file, passwords);
        }
        return new KafkaUsers(passwords);
    }

    /** The users under {@code authDir}, when {@link #ensure} made them. */
    public static Optional<KafkaUsers> find(Path authDir) {
        Map<String, String> passwords = read(authDir.resolve(FILE));
        return passwords.keySet().containsAll(ALL) ? Optional.of(new KafkaUsers(passwords)) : Optional.empty();
    }

    public String password(String principal) {
        String password = passwords.get(principal);
        if (password == null) {
            throw new IllegalArgumentException("no Kafka principal " + principal);
        }
        return password;
    }

    /** The client login of {@code principal} ({@code sasl.jaas.config}): a secret. */
    public String jaasConfig(String principal) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + principal + "\" password=\""
                + password(principal) + "\";";
    }

    /**
     * Client settings of {@code principal} as Petal's configuration keys ({@code kafka.security.protocol},
     * {@code kafka.sasl.mechanism}, {@code kafka.sasl.jaas.config}); the last is a secret.
     */
    public Map<String, String> clientConfig(String principal) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("kafka.security.protocol", SECURITY_PROTOCOL);
        config.put("kafka.sasl.mechanism", MECHANISM);
        config.put("kafka.sasl.jaas.config", jaasConfig(principal));
        return config;
    }

    /** The same settings as a Kafka client's properties, with {@code bootstrapServers}. */
    public Properties clientProperties(String principal, String bootstrapServers) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        clientConfig(principal).forEach((key, value) -> props.put(key.substring("kafka.".length()), value));
        return props;
    }

    private static Map<String, String> read(Path file) {
        if (!Files.isRegularFile(file)) {
            return Map.of();
        }
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            props.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the local Kafka users in " + file, e);
        }
        Map<String, String> passwords = new LinkedHashMap<>();
        props.stringPropertyNames().forEach(name -> passwords.put(name, props.getProperty(name)));
        return passwords;
    }

    private static void write(Path authDir, Path file, Map<String, String> passwords) {
        try {
            if (!Files.isDirectory(authDir)) {
                Files.createDirectories(authDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            Path tmp = file.resolveSibling(FILE + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Properties props = new Properties();
            props.putAll(passwords);
            try (OutputStream out = Files.newOutputStream(tmp)) {
                props.store(out, "The secure local stack's Kafka principals (./petal up --secure): keep this file private");
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the local Kafka users to " + file, e);
        }
    }
}
