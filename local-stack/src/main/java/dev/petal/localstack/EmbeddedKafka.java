package dev.petal.localstack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;

import dev.petal.localstack.auth.KafkaUsers;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;

/**
 * A real single-node Kafka broker in this JVM: KRaft, one process acting as broker and
 * controller, plaintext on {@code 127.0.0.1} (or where {@link Listening} says). Its data lives under
 * {@code dir/data}, so a {@link #stop()} and {@link #start()} (same port) or a new instance on the same
 * directory keeps every topic and record.
 *
 * <p>Secure ({@link KafkaUsers} given): clients authenticate with SCRAM-SHA-512 on the client listener and the
 * standard authorizer allows each principal only its ACLs ({@code allow.everyone.if.no.acl.found=false}). The
 * broker talks to itself and to its controller, and the stack's admin client to it, on two loopback listeners
 * with SASL/PLAIN as {@link KafkaUsers#ADMIN}, the one super user: SCRAM credentials live in the cluster's own
 * metadata, so they cannot authenticate the connections that bring that metadata up.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final String BROKER_LISTENER = "PLAINTEXT";
    private static final String CLIENT_LISTENER = "CLIENT";
    private static final String INTERNAL_LISTENER = "INTERNAL";
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final int NODE_ID = 1;

    private final Path dir;
    private final int port;
    private final int controllerPort;
    private final Listening listening;
    private final KafkaUsers users;
    private final int internalPort;
    private KafkaRaftServer server;

    /** A broker on a free port, its state under {@code dir}. */
    public EmbeddedKafka(Path dir) {
        this(dir, 0);
    }

    /** A broker on {@code port} (0: a free one, kept across restarts), its state under {@code dir}. */
    public EmbeddedKafka(Path dir, int port) {
        this(dir, port, Listening.LOOPBACK, null);
    }

    /**
     * A broker whose client listener is on {@code port} of {@code listening}; secure with SCRAM and ACLs when
     * {@code users} is given (null: plaintext, no authorizer).
     */
    public EmbeddedKafka(Path dir, int port, Listening listening, KafkaUsers users) {
        this.dir = dir.toAbsolutePath();
        this.listening = listening;
        this.port = Ports.orFree(port, listening.bindAddress());
        this.controllerPort = Ports.free();
        this.users = users;
        this.internalPort = users == null ? -1 : Ports.free();
    }

    /** Formats the storage on first use, then starts the broker and waits until it serves. */
    public synchronized EmbeddedKafka start() {
        if (server != null) {
            return this;
        }
        QuietLogging.apply();
        try {
            Files.createDirectories(dataDir());
            Path configFile = dir.resolve("broker.properties");
            Properties config = brokerConfig();
            // The file is for formatting and for reading; the logins (secrets) stay in memory.
            Properties written = new Properties();
            config.stringPropertyNames().stream().filter(key -> !key.endsWith("sasl.jaas.config"))
                    .forEach(key -> written.setProperty(key, config.getProperty(key)));
            try (OutputStream out = Files.newOutputStream(configFile)) {
                written.store(out, "written by " + EmbeddedKafka.class.getName() + " on each start");
            }
            if (!Files.exists(dataDir().resolve("meta.properties"))) {
                format(configFile);
            }
            KafkaRaftServer started = new KafkaRaftServer(KafkaConfig.fromProps(config), Time.SYSTEM);
            try {
                started.startup();
            } catch (RuntimeException e) {
                started.shutdown();
                throw e;
            }
            server = started;
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start Kafka under " + dir, e);
        }
    }

    /** Shuts the broker down cleanly; {@link #start()} brings it back on the same port and data. */
    public synchronized void stop() {
        if (server == null) {
            return;
        }
        try {
            server.shutdown();
            server.awaitShutdown();
        } finally {
            server = null;
        }
    }

    @Override
    public void close() {
        stop();
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    public int port() {
        return port;
    }

    /** {@code host:port} for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return listening.advertisedHost() + ":" + port;
    }

    /** Whether clients must authenticate and are held to ACLs. */
    public boolean isSecure() {
        return users != null;
    }

    /** The broker's log directory (topics, partitions, metadata). */
    public Path dataDir() {
        return dir.resolve("data");
    }

    /** Creates a topic with {@code partitions} partitions unless it exists (then nothing changes). */
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /** Creates a topic with topic-level {@code configs} (e.g. {@code retention.ms}) unless it exists. */
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        try (Admin admin = admin()) {
            NewTopic topic = new NewTopic(name, partitions, (short) 1).configs(configs);
            admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create topic " + name + ": " + e.getCause(), e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted creating topic " + name, e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out creating topic " + name, e);
        }
    }

    /** An admin client for this broker, as its super user when it is secure; the caller closes it. */
    public Admin admin() {
        Map<String, Object> config = new HashMap<>();
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "petal-local-stack-admin");
        if (users == null) {
            config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        } else {
            config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, Ports.HOST + ":" + internalPort);
            config.put("security.protocol", KafkaUsers.SECURITY_PROTOCOL);
            config.put("sasl.mechanism", "PLAIN");
            config.put("sasl.jaas.config", plainLogin());
        }
        return Admin.create(config);
    }

    @Override
    public String toString() {
        return "EmbeddedKafka[" + bootstrapServers() + ", " + dir + (isRunning() ? ", running]" : ", stopped]");
    }

    private Properties brokerConfig() {
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", Integer.toString(NODE_ID));
        p.setProperty("controller.quorum.voters", NODE_ID + "@" + Ports.HOST + ":" + controllerPort);
        p.setProperty("controller.listener.names", CONTROLLER_LISTENER);
        if (users == null) {
            p.setProperty("listeners", BROKER_LISTENER + "://" + listening.bindAddress() + ":" + port + ","
                    + CONTROLLER_LISTENER + "://" + Ports.HOST + ":" + controllerPort);
            p.setProperty("advertised.listeners", BROKER_LISTENER + "://" + listening.advertisedHost() + ":" + port);
            p.setProperty("listener.security.protocol.map",
                    BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
            p.setProperty("inter.broker.listener.name", BROKER_LISTENER);
        } else {
            secureListeners(p);
        }
        p.setProperty("log.dirs", dataDir().toString());
        // One node: every internal topic has one replica.
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("offsets.topic.num.partitions", "5");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("transaction.state.log.num.partitions", "5");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("num.partitions", "1");
        p.setProperty("auto.create.topics.enable", "true");
        // Fast consumer-group joins, few threads and little memory: this shares a laptop (or a test JVM).
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("num.network.threads", "2");
        p.setProperty("num.io.threads", "2");
        p.setProperty("background.threads", "2");
        p.setProperty("num.recovery.threads.per.data.dir", "1");
        p.setProperty("log.cleaner.threads", "1");
        p.setProperty("log.cleaner.dedupe.buffer.size", Integer.toString(8 * 1024 * 1024));
        return p;
    }

    /** Clients: SCRAM on the client listener; the broker itself and the stack's admin: PLAIN on loopback. */
    private void secureListeners(Properties p) {
        p.setProperty("listeners", CLIENT_LISTENER + "://" + listening.bindAddress() + ":" + port + ","
                + INTERNAL_LISTENER + "://" + Ports.HOST + ":" + internalPort + ","
                + CONTROLLER_LISTENER + "://" + Ports.HOST + ":" + controllerPort);
        p.setProperty("advertised.listeners", CLIENT_LISTENER + "://" + listening.advertisedHost() + ":" + port + ","
                + INTERNAL_LISTENER + "://" + Ports.HOST + ":" + internalPort);
        p.setProperty("listener.security.protocol.map", CLIENT_LISTENER + ":SASL_PLAINTEXT," + INTERNAL_LISTENER + ":SASL_PLAINTEXT,"
                + CONTROLLER_LISTENER + ":SASL_PLAINTEXT");
        p.setProperty("inter.broker.listener.name", INTERNAL_LISTENER);
        p.setProperty("sasl.mechanism.inter.broker.protocol", "PLAIN");
        p.setProperty("sasl.mechanism.controller.protocol", "PLAIN");
        p.setProperty("listener.name.client.sasl.enabled.mechanisms", KafkaUsers.MECHANISM);
        p.setProperty("listener.name.client.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        for (String listener : new String[] {"internal", "controller"}) {
            p.setProperty("listener.name." + listener + ".sasl.enabled.mechanisms", "PLAIN");
            p.setProperty("listener.name." + listener + ".plain.sasl.jaas.config", plainServerLogin());
        }
        p.setProperty("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.setProperty("super.users", "User:" + KafkaUsers.ADMIN);
        p.setProperty("allow.everyone.if.no.acl.found", "false");
    }

    /** The admin's PLAIN login, as a client. */
    private String plainLogin() {
        return "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + KafkaUsers.ADMIN
                + "\" password=\"" + users.password(KafkaUsers.ADMIN) + "\";";
    }

    /** The PLAIN login of the broker's loopback listeners: its own (as a client of itself) and the one user it accepts. */
    private String plainServerLogin() {
        String password = users.password(KafkaUsers.ADMIN);
        return "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + KafkaUsers.ADMIN
                + "\" password=\"" + password + "\" user_" + KafkaUsers.ADMIN + "=\"" + password + "\";";
    }

    private void format(Path configFile) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int rc;
        try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            rc = StorageTool.execute(new String[] {
                "format", "--cluster-id", Uuid.randomUuid().toString(), "--config", configFile.toString(),
                "--ignore-formatted"}, out);
        }
        if (rc != 0) {
            throw new IllegalStateException("formatting Kafka storage under " + dataDir() + " failed (" + rc + "): "
                    + output.toString(StandardCharsets.UTF_8));
        }
    }
}
