package dev.petal.inference;

import dev.petal.localstack.auth.TestTokens;
import dev.petal.testing.TestJvm;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The inference service as it is deployed: the packaged application ({@code target/quarkus-app/quarkus-run.jar
 * serve}) in a JVM of its own, configured by {@code -D} keys (the {@code application.properties} names), on free API
 * and management ports. A test can stop it the way Kubernetes does (SIGTERM: the batch in flight finishes and
 * commits, the group is left) or kill it the way a node or the OOM killer does (SIGKILL: no shutdown hook, no last
 * commit, no LeaveGroup, a transaction left open). Its log goes to {@code target/replica-<name>.log}.
 *
 * <p>It needs the packaged application, so the classes that start replicas run after {@code package}, under
 * failsafe ({@code mvn verify}).
 */
final class ReplicaProcess implements AutoCloseable {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private final Process process;
    private final Path log;
    private final int httpPort;
    private final int managementPort;

    private ReplicaProcess(Process process, Path log, int httpPort, int managementPort) {
        this.process = process;
        this.log = log;
        this.httpPort = httpPort;
        this.managementPort = managementPort;
    }

    static ReplicaProcess launch(String name, Map<String, String> config) throws IOException {
        Path jar = Path.of("target", "quarkus-app", "quarkus-run.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: replicas run the packaged service (mvn verify packages it)");
        }
        int http = freePort();
        int management = freePort();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        command.addAll(TestJvm.options());
        command.add("-Dai.djl.offline=true");
        command.add("-Dquarkus.http.port=" + http);
        command.add("-Dquarkus.management.port=" + management);
        // Every line the service logs at INFO, to read after a failure; the Kafka clients' reconnect lines stay out.
        command.add("-Dquarkus.log.category.\"org.apache.kafka\".level=ERROR");
        // The API verifies this JVM's test tokens (Replica reads GET /model with one).
        command.add("-Dmp.jwt.verify.publickey.location=" + TestTokens.publicKeyFile());
        config.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(jar.toString());
        command.add("serve");
        Path log = Path.of("target", "replica-" + name + "-" + SEQUENCE.incrementAndGet() + ".log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
        pb.environment().putIfAbsent("DJL_OFFLINE", "true");
        pb.environment().putIfAbsent("MALLOC_ARENA_MAX", "1");
        return new ReplicaProcess(pb.start(), log, http, management);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The API: {@code http://127.0.0.1:<port>/}. */
    String api() {
        return "http://127.0.0.1:" + httpPort + "/";
    }

    /** The management interface (health, metrics): {@code http://127.0.0.1:<port>/q/}. */
    String management() {
        return "http://127.0.0.1:" + managementPort + "/q/";
    }

    /** SIGTERM, and wait until the process is gone (a clean shutdown). */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(90, java.util.concurrent.TimeUnit.SECONDS)) {
            throw new AssertionError("the replica did not stop within 90 s of SIGTERM; see " + log);
        }
    }

    /** SIGKILL, and wait until the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    Path log() {
        return log;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
