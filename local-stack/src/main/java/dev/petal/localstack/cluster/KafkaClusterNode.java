package dev.petal.localstack.cluster;

import dev.petal.localstack.QuietLogging;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.utils.Time;

/**
 * One node of a {@link KafkaCluster}, in a process of its own so that it can be killed (SIGKILL) as a machine dies:
 * broker and KRaft controller, plaintext on 127.0.0.1. Arguments: its directory, node id, client port, controller
 * port, the quorum's voters ({@code 1@127.0.0.1:PORT,...}), the cluster id. Formats its storage on first start, prints
 * {@value #READY} once it serves, and runs until killed (or stopped: SIGTERM shuts it down cleanly).
 */
public final class KafkaClusterNode {
    static final String READY = "petal-kafka-node-ready";

    private KafkaClusterNode() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]).toAbsolutePath();
        int nodeId = Integer.parseInt(args[1]);
        int port = Integer.parseInt(args[2]);
        int controllerPort = Integer.parseInt(args[3]);
        String voters = args[4];
        String clusterId = args[5];
        int nodes = voters.split(",").length;
        QuietLogging.apply();
        Files.createDirectories(dir.resolve("data"));
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", Integer.toString(nodeId));
        p.setProperty("controller.quorum.voters", voters);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("log.dirs", dir.resolve("data").toString());
        // As production: every topic, internal ones included, on all nodes, and a write needs two in sync.
        String replicas = Integer.toString(nodes);
        String minIsr = Integer.toString(Math.min(2, nodes));
        p.setProperty("default.replication.factor", replicas);
        p.setProperty("min.insync.replicas", minIsr);
        p.setProperty("offsets.topic.replication.factor", replicas);
        p.setProperty("offsets.topic.num.partitions", "5");
        p.setProperty("transaction.state.log.replication.factor", replicas);
        p.setProperty("transaction.state.log.min.isr", minIsr);
        p.setProperty("transaction.state.log.num.partitions", "5");
        p.setProperty("share.coordinator.state.topic.replication.factor", replicas);
        p.setProperty("share.coordinator.state.topic.min.isr", minIsr);
        p.setProperty("auto.create.topics.enable", "false");
        p.setProperty("unclean.leader.election.enable", "false");
        // A dead node is fenced (and leaves every ISR) within 3 s, not Kafka's default 9.
        p.setProperty("broker.session.timeout.ms", "3000");
        p.setProperty("broker.heartbeat.interval.ms", "500");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("num.network.threads", "2");
        p.setProperty("num.io.threads", "2");
        p.setProperty("background.threads", "2");
        p.setProperty("num.recovery.threads.per.data.dir", "1");
        p.setProperty("num.replica.fetchers", "1");
        p.setProperty("log.cleaner.threads", "1");
        p.setProperty("log.cleaner.dedupe.buffer.size", Integer.toString(8 * 1024 * 1024));
        Path configFile = dir.resolve("node.properties");
        try (OutputStream out = Files.newOutputStream(configFile)) {
            p.store(out, "written by " + KafkaClusterNode.class.getName());
        }
        if (!Files.exists(dir.resolve("data").resolve("meta.properties"))) {
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            int rc;
            try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
                rc = StorageTool.execute(new String[] {"format", "--cluster-id", clusterId, "--config", configFile.toString(),
                    "--ignore-formatted"}, out);
            }
            if (rc != 0) {
                throw new IllegalStateException("formatting " + dir + " failed (" + rc + "): " + output.toString(StandardCharsets.UTF_8));
            }
        }
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(p), Time.SYSTEM);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            server.awaitShutdown();
        }, "kafka-node-shutdown"));
        server.startup();
        System.out.println(READY);
        System.out.flush();
        server.awaitShutdown();
    }
}
