package dev.petal.localstack.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

/**
 * A Kafka cluster of {@code n} nodes on 127.0.0.1 for fault tests, as production runs it: KRaft, every node a broker
 * and a controller (a quorum of {@code n}), topics replicated {@code n} times with {@code min.insync.replicas=2}
 * ({@link KafkaClusterNode}). Each node is a JVM of its own, on the test's classpath, so that {@link #kill} can
 * SIGKILL it as a machine dies; {@link #start(int)} brings it back on the same ports and data. For tests only: the
 * local stack stays one embedded broker.
 */
public final class KafkaCluster implements AutoCloseable {
    private final Path dir;
    private final String clusterId = Uuid.randomUuid().toString();
    private final int[] ports;
    private final int[] controllerPorts;
    private final Process[] nodes;
    /** How often each node was started: its log gets one ready line per start. */
    private final int[] launches;

    private KafkaCluster(Path dir, int n) {
        this.dir = dir;
        this.ports = new int[n];
        this.controllerPorts = new int[n];
        this.nodes = new Process[n];
        this.launches = new int[n];
        for (int i = 0; i < n; i++) {
            ports[i] = freePort();
            controllerPorts[i] = freePort();
        }
    }

    /** Starts {@code n} nodes (ids 1..n) under {@code dir} and waits until each serves and the cluster sees them all. */
    public static KafkaCluster start(Path dir, int n) {
        KafkaCluster cluster = new KafkaCluster(dir.toAbsolutePath(), n);
        for (int id = 1; id <= n; id++) {
            cluster.launch(id);
        }
        for (int id = 1; id <= n; id++) {
            cluster.awaitReady(id, Duration.ofMinutes(2));
        }
        cluster.awaitBrokers(n, Duration.ofMinutes(1));
        return cluster;
    }

    public int size() {
        return nodes.length;
    }

    /** Every node's address, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return IntStream.of(ports).mapToObj(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    /** SIGKILL to node {@code id}: no controlled shutdown, no flush, its partitions' leadership moves when it is fenced. */
    public synchronized void kill(int id) throws InterruptedException {
        Process p = nodes[id - 1];
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            p.waitFor();
        }
        nodes[id - 1] = null;
    }

    /** Starts node {@code id} again on its ports and data, and waits until it serves and rejoined the cluster. */
    public synchronized void start(int id) {
        if (nodes[id - 1] == null || !nodes[id - 1].isAlive()) {
            launch(id);
            awaitReady(id, Duration.ofMinutes(2));
            awaitBrokers(nodes.length, Duration.ofMinutes(1));
        }
    }

    /** An admin client for the cluster; the caller closes it. */
    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
    }

    /** A topic with {@code partitions} partitions on every node (replication factor {@link #size()}). */
    public void createTopic(String name, int partitions) {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) nodes.length))).all().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic " + name + ": " + e, e);
        }
    }

    /** A node's log, for a failure's message. */
    public Path log(int id) {
        return dir.resolve("node-" + id + ".log");
    }

    @Override
    public synchronized void close() {
        for (Process p : nodes) {
            if (p != null && p.isAlive()) {
                p.destroy(); // a clean stop, all at once
            }
        }
        for (Process p : nodes) {
            if (p != null) {
                try {
                    if (!p.waitFor(30, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    p.destroyForcibly();
                }
            }
        }
    }

    private String voters() {
        return IntStream.range(0, nodes.length).mapToObj(i -> (i + 1) + "@127.0.0.1:" + controllerPorts[i])
                .collect(Collectors.joining(","));
    }

    private void launch(int id) {
        Path nodeDir = dir.resolve("node-" + id);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.add("-XX:+UseSerialGC");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(KafkaClusterNode.class.getName());
        command.add(nodeDir.toString());
        command.add(Integer.toString(id));
        command.add(Integer.toString(ports[id - 1]));
        command.add(Integer.toString(controllerPorts[id - 1]));
        command.add(voters());
        command.add(clusterId);
        try {
            Files.createDirectories(nodeDir);
            launches[id - 1]++;
            nodes[id - 1] = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log(id).toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start Kafka node " + id, e);
        }
    }

    private void awaitReady(int id, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                Process p = nodes[id - 1];
                String log = Files.exists(log(id)) ? Files.readString(log(id)) : "";
                long starts = log.lines().filter(KafkaClusterNode.READY::equals).count();
                long launches = launches(id);
                if (starts >= launches) {
                    return;
                }
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("Kafka node " + id + " did not start; see " + log(id));
                }
                Thread.sleep(100);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private long launches(int id) {
        return launches[id - 1];
    }

    private void awaitBrokers(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = admin()) {
            while (true) {
                try {
                    if (admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size() >= n) {
                        return;
                    }
                } catch (Exception e) {
                    // not up yet
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the cluster did not see " + n + " brokers within " + timeout);
                }
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
