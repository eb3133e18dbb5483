package dev.petal.inference;

import dev.petal.inference.health.ServingLiveness;
import dev.petal.inference.health.ServingReadiness;
import dev.petal.inference.model.ModelHolder;
import dev.petal.inference.model.ModelWatcher;
import dev.petal.inference.scoring.ClaimCheck;
import dev.petal.inference.scoring.ImageScorer;
import dev.petal.inference.scoring.ScoringLoop;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.microprofile.health.HealthCheckResponse;

/**
 * One inference replica, wired by hand from the service's own classes exactly as CDI wires them for
 * {@code serve} ({@link InferenceService} = {@link ModelWatcher} + {@link ScoringLoop}), from one map of
 * configuration keys (the {@code application.properties} names). Several replicas fit in one JVM, each
 * with its own Kafka clients, model and metrics, which a {@code @QuarkusTest} (one application per JVM)
 * cannot give; {@link ReplicaProcess} runs one in a JVM of its own, to be killed.
 */
final class Replica implements AutoCloseable {
    // Held: the log manager keeps its loggers weakly, and a collected one forgets its level.
    private static final java.util.List<java.util.logging.Logger> QUIETED = new java.util.ArrayList<>();

    static {
        logging();
    }

    /**
     * Outside Quarkus, jboss-logging would pick log4j-api (on the class path for the embedded broker) and
     * drop the service's log lines: route them through slf4j to the log manager, as in the application.
     * The Kafka clients log a line per reconnect attempt while a broker is down: errors only.
     */
    static synchronized void logging() {
        System.setProperty("org.jboss.logging.provider", "slf4j");
        if (QUIETED.isEmpty()) {
            for (String category : java.util.List.of("org.apache.kafka.clients", "org.apache.kafka.common", "ai.djl")) {
                java.util.logging.Logger logger = org.jboss.logmanager.LogContext.getLogContext().getLogger(category);
                logger.setLevel(java.util.logging.Level.SEVERE);
                QUIETED.add(logger);
            }
            // When jboss-logging was set up before this (in a test JVM it is), it logs through log4j-api's
            // simple logger, at ERROR: let the service's warnings and start-up lines through.
            var context = org.apache.logging.log4j.LogManager.getContext(false);
            for (Class<?> c : java.util.List.of(ScoringLoop.class, ModelWatcher.class, ModelHolder.class)) {
                if (context.getLogger(c.getName()) instanceof org.apache.logging.log4j.simple.SimpleLogger simple) {
                    simple.setLevel(org.apache.logging.log4j.Level.INFO);
                }
            }
        }
    }

    final Map<String, String> config;
    final ModelHolder holder = new ModelHolder();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final InferenceSettings settings;
    final KafkaClients kafka;
    final ModelWatcher watcher;
    final ScoringLoop loop;
    final InferenceService service;
    final ServingReadiness readiness;
    final ServingLiveness liveness;

    Replica(Map<String, String> config) {
        this.config = Map.copyOf(config);
        SmallRyeConfig smallrye = new SmallRyeConfigBuilder()
                .withMapping(InferenceSettings.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(this.config, "replica", 500))
                .build();
        settings = smallrye.getConfigMapping(InferenceSettings.class);
        kafka = KafkaClients.of(this.config.get("kafka.bootstrap.servers"), this.config);
        InferenceMetrics metrics = new InferenceMetrics(registry, holder);
        Storage storage = new Storage(smallrye);
        watcher = new ModelWatcher(settings, kafka, storage, holder, metrics);
        loop = new ScoringLoop(settings, kafka, holder, new ImageScorer(settings, smallrye), new ClaimCheck(storage), metrics);
        service = new InferenceService(watcher, loop);
        readiness = new ServingReadiness(holder, service, kafka);
        liveness = new ServingLiveness(loop, watcher);
    }

    /**
     * The configuration of a replica of {@code model} reading {@code input} in {@code group}: the stack's
     * addresses, CPU, a 1 s latest-poll, and (so that a killed replica's partitions move within seconds,
     * not Kafka's default 45) a 6 s consumer session, the broker's minimum.
     */
    static Map<String, String> config(Map<String, String> stackConfig, String model, String group, String input,
                                      String output, String dlq, Map<String, String> more) {
        Map<String, String> c = new LinkedHashMap<>(stackConfig);
        c.put("petal.inference.model-name", model);
        c.put("petal.inference.group", group);
        c.put("petal.inference.input-topic", input);
        c.put("petal.inference.output-topic", output);
        c.put("petal.inference.dead-letter-topic", dlq);
        c.put("petal.inference.device", "cpu");
        c.put("petal.inference.poll-interval", "1s");
        c.put("petal.inference.decode-threads", "2");
        c.put("kafka.session.timeout.ms", "6000");
        c.put("kafka.heartbeat.interval.ms", "1000");
        c.putAll(more);
        return c;
    }

    Replica start() {
        service.start();
        return this;
    }

    /** The clean stop of {@code serve}'s shutdown: the batch in flight finishes and commits, the group is left. */
    void stop() {
        service.stop();
    }

    /** Waits until this replica has a model and its loop has joined the group. */
    Replica awaitConsuming(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!loop.isConsuming()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the replica did not start consuming within " + timeout);
            }
            Thread.sleep(50);
        }
        return this;
    }

    /** Predictions this replica has published (its petal_inference_predictions counter). */
    double predictions() {
        return registry.get("petal.inference.predictions").counter().count();
    }

    boolean ready() {
        return readiness.call().getStatus() == HealthCheckResponse.Status.UP;
    }

    boolean live() {
        return liveness.call().getStatus() == HealthCheckResponse.Status.UP;
    }

    @Override
    public void close() {
        stop();
    }
}
