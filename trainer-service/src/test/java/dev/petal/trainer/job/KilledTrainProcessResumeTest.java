package dev.petal.trainer.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.records.Headers;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.LocalStack;
import dev.petal.testing.TestJvm;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real {@code ./petal train} process killed mid-epoch (issue #27): the packaged trainer's {@code train} command in a
 * JVM of its own, with the options the launcher gives it ({@code -XX:+UseSerialGC -Xms16m}, offline), on a stack of
 * its own. One run goes uninterrupted; another, with {@code --checkpoint-interval 1}, gets SIGKILL as soon as a
 * mid-epoch checkpoint is its latest version, and is run again with {@code --resume}.
 *
 * <p>Asserted: the killed run's latest version is a mid-epoch one (its manifest has {@code epochProgress}) of an
 * unfinished epoch; the resumed run exits 0 and ends at the uninterrupted run's step and train loss, with its weights
 * equal bit for bit ({@code weights.safetensors}, byte for byte).
 */
class KilledTrainProcessResumeTest {
    static final String DATASET = "kill-resume";
    // 384 to train on: 48 steps an epoch at batch 8. The doomed run must outlast the publishing of its first
    // checkpoint (a cold object store takes seconds): with 16 steps it did not, on a fast host.
    static final int IMAGES = 480;

    static Path stateDir;
    static LocalStack stack;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Boolean.getBoolean("petal.packaged"),
                "KilledTrainProcessResumeTest runs the packaged trainer: mvn verify runs it under failsafe, after package");
        stateDir = Files.createTempDirectory("petal-kill-train-");
        stack = LocalStack.start(stateDir);
        SyntheticShapes shapes = new SyntheticShapes(16, 3);
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.of(Map.of("bootstrap.servers", stack.bootstrapServers())).producer()) {
            for (int i = 0; i < IMAGES; i++) {
                SyntheticShapes.Sample s = shapes.next();
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(s.image(), "png", png);
                byte[] bytes = png.toByteArray();
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(Topics.TRAIN, Sha256.hex(bytes).getBytes(StandardCharsets.UTF_8), bytes);
                r.headers().add(Headers.LABEL, s.labelName().getBytes(StandardCharsets.UTF_8));
                r.headers().add(Headers.SPLIT, (i % 5 == 0 ? "valid" : "train").getBytes(StandardCharsets.UTF_8));
                r.headers().add(Headers.DATASET, DATASET.getBytes(StandardCharsets.UTF_8));
                producer.send(r);
            }
            producer.flush();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack == null) {
            return;
        }
        stack.close();
        try (var paths = Files.walk(stateDir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void aTrainProcessKilledMidEpochResumesToTheUninterruptedRunsWeightsBitForBit() throws Exception {
        long start = System.nanoTime();
        Process straight = train("kill-straight", "straight", false, 0);
        assertEquals(0, waitFor(straight, "straight"), "the uninterrupted run");
        double straightSeconds = (System.nanoTime() - start) / 1e9;

        Process doomed = train("kill-resumed", "doomed", false, 1);
        CheckpointManifest atKill;
        try (ObjectStore objects = stack.objectStore()) {
            CheckpointStore store = new CheckpointStore(objects);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
            Optional<CheckpointManifest> mid = Optional.empty();
            while (mid.isEmpty() && doomed.isAlive() && System.nanoTime() < deadline) {
                mid = store.latestVersion("kill-resumed").map(v -> store.manifest("kill-resumed", v))
                        .filter(m -> m.metrics().containsKey(TrainingJob.EPOCH_PROGRESS));
                Thread.sleep(20);
            }
            assertTrue(mid.isPresent(), "a mid-epoch checkpoint before the run ended; see " + log("doomed"));
            doomed.destroyForcibly(); // SIGKILL: no shutdown hook, no last checkpoint
            doomed.waitFor();
            atKill = store.manifest("kill-resumed", store.latestVersion("kill-resumed").orElseThrow());
        }
        assertTrue(atKill.metrics().containsKey(TrainingJob.EPOCH_PROGRESS), "killed mid-epoch: " + atKill.version());

        Process resumed = train("kill-resumed", "resumed", true, 0);
        assertEquals(0, waitFor(resumed, "resumed"), "the resumed run");
        try (ObjectStore objects = stack.objectStore()) {
            CheckpointStore store = new CheckpointStore(objects);
            CheckpointManifest reference = store.manifest("kill-straight", store.latestVersion("kill-straight").orElseThrow());
            CheckpointManifest last = store.manifest("kill-resumed", store.latestVersion("kill-resumed").orElseThrow());
            System.out.printf("train SIGKILLed at %s (epoch %d, step %d, %s); resumed to %s at step %d; uninterrupted %s at step %d"
                            + " (%.1f s); %.1f s in all%n", atKill.version(), atKill.epoch(), atKill.step(),
                    atKill.metrics().get(TrainingJob.EPOCH_PROGRESS), last.version(), last.step(), reference.version(),
                    reference.step(), straightSeconds, (System.nanoTime() - start) / 1e9);
            assertEquals(reference.epoch(), last.epoch());
            assertEquals(reference.step(), last.step());
            assertEquals(reference.metrics().get("trainLoss"), last.metrics().get("trainLoss"));
            assertArrayEquals(store.fetch(reference).weights(), store.fetch(last).weights(), "same weights, bit for bit");
        }
    }

    /** The packaged trainer's {@code train}, as {@code ./petal train} starts it; its log in {@code target/train-<name>.log}. */
    private static Process train(String model, String name, boolean resume, int checkpointInterval) throws Exception {
        Path jar = Path.of("target", "quarkus-app", "quarkus-run.jar").toAbsolutePath();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-XX:+UseSerialGC"); // PETAL_JVM_OPTS' default
        command.add("-Xms16m");
        command.addAll(TestJvm.options());
        command.add("-Dai.djl.offline=true");
        command.add("-Dquarkus.http.port=0");
        command.add("-Dquarkus.management.port=0");
        stack.clientConfig().forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(jar.toString());
        command.add("train");
        command.addAll(List.of("--model-name", model));
        if (resume) {
            command.add("--resume"); // the checkpoint's recipe wins
        } else {
            command.addAll(List.of("--dataset", DATASET, "--arch", "resnet18", "--stem", "small", "--image-size", "16",
                    "--epochs", "2", "--batch-size", "8", "--lr", "2e-3", "--warmup-iters", "5", "--seed", "7",
                    "--checkpoint-interval", Integer.toString(checkpointInterval)));
        }
        command.addAll(List.of("--device", "cpu"));
        Path log = log(name);
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("DJL_OFFLINE", "true");
        return pb.start();
    }

    private static Path log(String name) {
        return Path.of("target", "train-" + name + ".log").toAbsolutePath();
    }

    private static int waitFor(Process p, String name) throws Exception {
        if (!p.waitFor(Duration.ofMinutes(8).toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(name + " did not finish within 8 min; see " + log(name));
        }
        if (p.exitValue() != 0) {
            System.out.println(Files.readString(log(name)));
        }
        return p.exitValue();
    }
}
