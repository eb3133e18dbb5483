package dev.petal.inference;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link Replica} in a JVM of its own (this class's {@link #main}, on the test class path), so that a
 * test can kill it the way a node or the OOM killer does: SIGKILL, no shutdown hook, no last commit, no
 * LeaveGroup, a transaction left open. Its log goes to {@code target/replica-<name>.log}.
 */
final class ReplicaProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private ReplicaProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Configuration keys as {@code key=value} arguments; runs until killed. */
    public static void main(String[] args) throws Exception {
        Map<String, String> config = new LinkedHashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            config.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        Replica replica = new Replica(config).start();
        replica.awaitConsuming(Duration.ofMinutes(2));
        System.out.println("replica consuming");
        Thread.sleep(Long.MAX_VALUE);
    }

    static ReplicaProcess launch(String name, Map<String, String> config) throws IOException {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        command.add("-Dai.djl.offline=true");
        command.add("-Dorg.jboss.logging.provider=slf4j");
        command.add("-Dlog4j.provider=org.apache.logging.log4j.simple.internal.SimpleProvider");
        command.add("-cp");
        command.add(classPath);
        command.add(ReplicaProcess.class.getName());
        config.forEach((k, v) -> command.add(k + "=" + v));
        Path log = Path.of("target", "replica-" + name + ".log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
        pb.environment().putIfAbsent("DJL_OFFLINE", "true");
        pb.environment().putIfAbsent("MALLOC_ARENA_MAX", "1");
        return new ReplicaProcess(pb.start(), log);
    }

    boolean isAlive() {
        return process.isAlive();
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
}
