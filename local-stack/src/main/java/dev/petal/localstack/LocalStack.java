package dev.petal.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;

import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import dev.petal.localstack.auth.KafkaAcls;
import dev.petal.localstack.auth.KafkaUsers;

/**
 * Everything Petal needs around it, in this JVM: a Kafka broker with the Petal topics and an
 * S3 server with the Petal bucket. State lives under one directory ({@code kafka/}, {@code s3/}),
 * so a stack started again on the same directory keeps its topics, records and objects.
 *
 * <pre>{@code
 * try (LocalStack stack = LocalStack.start(Path.of(".petal"))) {
 *     stack.bootstrapServers();   // "127.0.0.1:40123"
 *     stack.s3Settings();         // endpoint, bucket "petal", keys
 *     stack.clientConfig();       // the same, as petal.s3.* and kafka.bootstrap.servers entries
 * }
 * }</pre>
 *
 * Tests share one stack per JVM through {@link #shared()}, {@link LocalStackExtension} or,
 * in Quarkus tests, {@link LocalStackTestResource}.
 */
public final class LocalStack implements AutoCloseable {

    /** The configuration key for the Kafka bootstrap servers (Quarkus's default for every Kafka channel). */
    public static final String KAFKA_BOOTSTRAP_SERVERS = "kafka.bootstrap.servers";

    /** The Petal topics and their partition counts, in the order of the flow. */
    public static final Map<String, Integer> TOPICS;

    static {
        Map<String, Integer> topics = new LinkedHashMap<>();
        topics.put(Topics.TRAIN, 3);
        topics.put(Topics.IMAGES, 6);
        topics.put(Topics.PREDICTIONS, 6);
        topics.put(Topics.PREDICTIONS_SHADOW, 6);
        topics.put(Topics.MODELS, 1);
        topics.put(Topics.DLQ, 3);
        TOPICS = Collections.unmodifiableMap(topics);
    }

    /** Topic-level settings, the contract's ({@link Topics#CONFIGS}): the dataset and the model events are kept forever. */
    public static final Map<String, Map<String, String>> TOPIC_CONFIGS = Topics.CONFIGS;

    private static LocalStack shared;

    /** The folder under the state directory that holds secrets: the Kafka users' passwords, the token key pair. */
    public static final String AUTH_DIR = "auth";

    private final Path stateDir;
    private final Listening listening;
    private final KafkaUsers kafkaUsers;
    private final EmbeddedKafka kafka;
    private final EmbeddedS3 s3;
    private final String bucket;
    private final boolean closeable;

    private LocalStack(Path stateDir, int kafkaPort, int s3Port, Listening listening, boolean secure, boolean closeable) {
        this.stateDir = stateDir.toAbsolutePath();
        this.listening = listening;
        this.kafkaUsers = secure ? KafkaUsers.ensure(this.stateDir.resolve(AUTH_DIR)) : null;
        this.kafka = new EmbeddedKafka(this.stateDir.resolve("kafka"), kafkaPort, listening, kafkaUsers);
        this.s3 = new EmbeddedS3(this.stateDir.resolve("s3"), s3Port,
                EmbeddedS3.DEFAULT_ACCESS_KEY, EmbeddedS3.DEFAULT_SECRET_KEY, listening);
        this.bucket = S3Settings.DEFAULT_BUCKET;
        this.closeable = closeable;
    }

    /** Starts a stack on free ports with its state under {@code stateDir}. */
    public static LocalStack start(Path stateDir) {
        return start(stateDir, 0, 0);
    }

    /** Starts a stack on the given ports (0: a free one) with its state under {@code stateDir}. */
    public static LocalStack start(Path stateDir, int kafkaPort, int s3Port) {
        return start(stateDir, kafkaPort, s3Port, Listening.LOOPBACK, false);
    }

    /**
     * Starts a stack listening where {@code listening} says; with {@code secure}, Kafka clients authenticate with
     * SCRAM-SHA-512 as one of {@link KafkaUsers} (made once under {@code stateDir/auth/}) and are held to
     * {@link KafkaAcls}.
     */
    public static LocalStack start(Path stateDir, int kafkaPort, int s3Port, Listening listening, boolean secure) {
        return started(stateDir, kafkaPort, s3Port, listening, secure, true);
    }

    private static LocalStack started(Path stateDir, int kafkaPort, int s3Port, Listening listening, boolean secure,
                                      boolean closeable) {
        for (int attempt = 1; ; attempt++) {
            try {
                return new LocalStack(stateDir, kafkaPort, s3Port, listening, secure, closeable).startAll();
            } catch (RuntimeException e) {
                // A port chosen free can be taken by another process before the server binds it (tests side by side):
                // when the ports were ours to choose, choose again.
                if (attempt == 3 || kafkaPort != 0 || s3Port != 0 || !portTaken(e)) {
                    throw e;
                }
            }
        }
    }

    private static boolean portTaken(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException || String.valueOf(t.getMessage()).contains("Address already in use")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The stack for this JVM's tests: started on first use, on free ports under a temporary
     * directory, stopped and deleted when the JVM exits. {@link #close()} on it does nothing.
     */
    public static synchronized LocalStack shared() {
        if (shared == null) {
            Path dir;
            try {
                dir = Files.createTempDirectory("petal-local-stack-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a temporary directory", e);
            }
            LocalStack stack = started(dir, 0, 0, Listening.LOOPBACK, false, false);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stack.stopAll();
                deleteRecursively(dir);
            }, "petal-local-stack-shutdown"));
            shared = stack;
        }
        return shared;
    }

    /** Stops both servers and starts them again on the same ports and data. */
    public synchronized LocalStack restart() {
        stopAll();
        return startAll();
    }

    public Path stateDir() {
        return stateDir;
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public EmbeddedS3 s3() {
        return s3;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** Whether Kafka clients must authenticate and are held to ACLs ({@code ./petal up --secure}). */
    public boolean isSecure() {
        return kafkaUsers != null;
    }

    /** The Kafka principals and their passwords, when the stack is secure. */
    public Optional<KafkaUsers> kafkaUsers() {
        return Optional.ofNullable(kafkaUsers);
    }

    public Listening listening() {
        return listening;
    }

    /** Settings for the embedded S3 server and the Petal bucket. */
    public S3Settings s3Settings() {
        return s3.settings(bucket);
    }

    /** A new client for the Petal bucket; the caller closes it. */
    public ObjectStore objectStore() {
        return new ObjectStore(s3Settings());
    }

    /**
     * {@code kafka.bootstrap.servers} and the {@code petal.s3.*} keys, pointing at this stack; when it is secure, also
     * the security protocol and SASL mechanism (not a login: each client adds its principal's from {@link KafkaUsers}).
     */
    public Map<String, String> clientConfig() {
        Map<String, String> config = new LinkedHashMap<>();
        config.put(KAFKA_BOOTSTRAP_SERVERS, bootstrapServers());
        if (isSecure()) {
            config.put("kafka.security.protocol", KafkaUsers.SECURITY_PROTOCOL);
            config.put("kafka.sasl.mechanism", KafkaUsers.MECHANISM);
        }
        config.putAll(s3Settings().toConfig());
        return Map.copyOf(config);
    }

    /** Stops both servers (not for {@link #shared()}: that one stops when the JVM exits). */
    @Override
    public void close() {
        if (closeable) {
            stopAll();
        }
    }

    @Override
    public String toString() {
        return "LocalStack[kafka=" + bootstrapServers() + ", s3=" + s3.endpoint() + ", bucket=" + bucket
                + ", state=" + stateDir + "]";
    }

    private synchronized LocalStack startAll() {
        try {
            s3.start();
            try (ObjectStore store = objectStore()) {
                store.ensureBucket();
            }
            kafka.start();
            createTopics();
            if (isSecure()) {
                grantPrincipals();
            }
            return this;
        } catch (RuntimeException e) {
            stopAll();
            throw e;
        }
    }

    private synchronized void stopAll() {
        try {
            kafka.stop();
        } finally {
            s3.stop();
        }
    }

    private void createTopics() {
        List<NewTopic> topics = new ArrayList<>();
        TOPICS.forEach((name, partitions) ->
                topics.add(new NewTopic(name, partitions, (short) 1).configs(TOPIC_CONFIGS.getOrDefault(name, Map.of()))));
        try (Admin admin = kafka.admin()) {
            for (Map.Entry<String, KafkaFuture<Void>> created : admin.createTopics(topics).values().entrySet()) {
                try {
                    created.getValue().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + created.getKey(), e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted creating the Petal topics", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out creating the Petal topics", e);
        }
    }

    /**
     * Gives every principal its SCRAM credential (the password of {@link KafkaUsers}, again on each start, so a
     * changed file wins) and the ACLs of {@link KafkaAcls}, then waits until a client can log in with them.
     */
    private void grantPrincipals() {
        List<UserScramCredentialAlteration> credentials = new ArrayList<>();
        for (String user : KafkaUsers.ALL) {
            credentials.add(new UserScramCredentialUpsertion(user, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192),
                    kafkaUsers.password(user)));
        }
        try (Admin admin = kafka.admin()) {
            admin.alterUserScramCredentials(credentials).all().get(30, TimeUnit.SECONDS);
            admin.createAcls(KafkaAcls.bindings()).all().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted granting the Kafka principals", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot grant the Kafka principals their credentials and ACLs: " + e.getMessage(), e);
        }
        awaitLogin();
    }

    /** Credentials reach the broker through its metadata a moment after they are written. */
    private void awaitLogin() {
        Properties props = kafkaUsers.clientProperties(KafkaUsers.ADMIN, bootstrapServers());
        props.put("request.timeout.ms", "3000");
        props.put("default.api.timeout.ms", "3000");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try (Admin admin = Admin.create(props)) {
                admin.describeCluster().clusterId().get(5, TimeUnit.SECONDS);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for the Kafka credentials", e);
            } catch (ExecutionException | TimeoutException e) {
                last = new IllegalStateException(e.getMessage(), e);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for the Kafka credentials", e);
            }
        }
        throw new IllegalStateException("the Kafka principals cannot log in 30 s after their credentials were written", last);
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    // best effort: a temporary directory
                }
            });
        } catch (IOException e) {
            // best effort
        }
    }
}
