package dev.petal.inference.scoring;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.concurrent.DaemonThreads;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.records.ModelEvent;
import dev.petal.inference.InferenceSettings;
import dev.petal.service.Storage;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jboss.logging.Logger;

/**
 * Watches a canary: per route ({@code canary}, {@code champion}) a sliding window of the last
 * {@code petal.inference.canary-window} inputs, each a dead letter or a prediction with its top-1 confidence and, when
 * the input carried a {@code label} header, whether it was right. Once both windows are full they are compared: when the
 * challenger is worse than the champion by more than {@code canary-threshold} points in accuracy (on labelled inputs, at
 * least 20 a route), dead-letter rate or mean top-1 confidence, the canary stops (P to 0) and a {@code petal.models}
 * event says why; when it is not worse and {@code canary-promote=true}, the challenger is promoted to champion (an alias
 * move, actor {@code inference}) and the canary ends. Either way it is decided once.
 */
@ApplicationScoped
public class CanaryMonitor {
    private static final Logger LOG = Logger.getLogger(CanaryMonitor.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Labelled inputs a route needs before accuracy is compared. */
    static final int MIN_LABELLED = 20;

    /** One input's outcome. */
    record Observation(boolean deadLetter, double confidence, Boolean correct) {}

    /** A route's sliding window. */
    static final class Window {
        private final int size;
        private final Deque<Observation> last = new ArrayDeque<>();
        private long seen;

        Window(int size) {
            this.size = size;
        }

        synchronized void add(Observation o) {
            last.addLast(o);
            seen++;
            if (last.size() > size) {
                last.removeFirst();
            }
        }

        synchronized boolean full() {
            return last.size() >= size;
        }

        synchronized Map<String, Object> summary() {
            int dead = 0;
            int scored = 0;
            double confidence = 0;
            int labelled = 0;
            int right = 0;
            for (Observation o : last) {
                if (o.deadLetter()) {
                    dead++;
                } else {
                    scored++;
                    confidence += o.confidence();
                }
                if (o.correct() != null) {
                    labelled++;
                    right += o.correct() ? 1 : 0;
                }
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("inputs", last.size());
            m.put("deadLetterRate", last.isEmpty() ? 0.0 : (double) dead / last.size());
            m.put("meanConfidence", scored == 0 ? 0.0 : confidence / scored);
            m.put("labelled", labelled);
            m.put("accuracy", labelled == 0 ? null : (double) right / labelled);
            return m;
        }
    }

    private final InferenceSettings settings;
    private final CanaryRouter router;
    private final Storage storage;
    private final KafkaClients kafka;
    private final Window canary;
    private final Window champion;
    private final ExecutorService actions = Executors.newSingleThreadExecutor(DaemonThreads.named("petal-canary"));
    private volatile boolean decided;
    private volatile Map<String, Object> decision;

    public CanaryMonitor(InferenceSettings settings, CanaryRouter router, Storage storage, KafkaClients kafka) {
        this.settings = settings;
        this.router = router;
        this.storage = storage;
        this.kafka = kafka;
        this.canary = new Window(Math.max(1, settings.canaryWindow()));
        this.champion = new Window(Math.max(1, settings.canaryWindow()));
    }

    /** The decision taken, if any: {@code {"decision": "stopped"|"promoted", "reason": ..., ...}}. */
    public Map<String, Object> decision() {
        return decision;
    }

    /** Counts one input of {@code route}; decides once both windows are full. */
    public void observe(String route, Observation observation) {
        if (decided || router.percent() == 0) {
            return;
        }
        (CanaryRouter.CANARY.equals(route) ? canary : champion).add(observation);
    }

    /** Called after each batch: compares the windows once both are full. */
    public synchronized void evaluate(String championVersion, String challengerVersion) {
        if (decided || router.percent() == 0 || !canary.full() || !champion.full()) {
            return;
        }
        Map<String, Object> c = canary.summary();
        Map<String, Object> m = champion.summary();
        double threshold = settings.canaryThreshold();
        StringBuilder worse = new StringBuilder();
        double deadPoints = 100 * ((Double) c.get("deadLetterRate") - (Double) m.get("deadLetterRate"));
        if (deadPoints > threshold) {
            worse.append(String.format("dead-letter rate %+.1f points; ", deadPoints));
        }
        double confidencePoints = 100 * ((Double) m.get("meanConfidence") - (Double) c.get("meanConfidence"));
        if (confidencePoints > threshold) {
            worse.append(String.format("mean top-1 confidence %.1f points lower; ", confidencePoints));
        }
        if ((Integer) c.get("labelled") >= MIN_LABELLED && (Integer) m.get("labelled") >= MIN_LABELLED) {
            double accuracyPoints = 100 * ((Double) m.get("accuracy") - (Double) c.get("accuracy"));
            if (accuracyPoints > threshold) {
                worse.append(String.format("accuracy %.1f points lower on labelled inputs; ", accuracyPoints));
            }
        }
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("type", "canary");
        event.put("name", settings.modelName());
        event.put("champion", championVersion);
        event.put("challenger", challengerVersion);
        event.put("window", Map.of("canary", c, "champion", m));
        event.put("threshold", threshold);
        event.put("at", Instant.now().toString());
        if (worse.length() > 0) {
            decided = true;
            router.stop();
            String reason = "challenger " + challengerVersion + " worse than champion " + championVersion + " by more than "
                    + threshold + " points over " + settings.canaryWindow() + " inputs a route: " + worse.toString().replaceAll("; $", "");
            event.put("decision", "stopped");
            event.put("reason", reason);
            decision = event;
            LOG.warnf("canary stopped: %s", reason);
            actions.submit(() -> announce(event));
        } else if (settings.canaryPromote()) {
            decided = true;
            String reason = "challenger " + challengerVersion + " no worse than champion " + championVersion + " over "
                    + settings.canaryWindow() + " inputs a route";
            event.put("decision", "promoted");
            event.put("reason", reason);
            decision = event;
            LOG.infof("canary passed, promoting: %s", reason);
            actions.submit(() -> {
                try {
                    new ModelRegistry(storage.objects(), this::announceMove).move(settings.modelName(), ModelRegistry.CHAMPION,
                            challengerVersion, AliasMove.CANARY_PROMOTE, reason, "inference", false, null);
                    router.stop();
                } catch (RuntimeException e) {
                    LOG.errorf("canary passed, but promoting %s failed: %s", challengerVersion, e.getMessage());
                }
                announce(event);
            });
        }
    }

    private void announceMove(AliasMove move) {
        send(ModelEvent.aliasKey(move), ModelEvent.aliasValue(move));
    }

    private void announce(Map<String, Object> event) {
        try {
            send((settings.modelName() + "@canary").getBytes(StandardCharsets.UTF_8), JSON.writeValueAsBytes(event));
        } catch (Exception e) {
            LOG.warnf("the canary's %s event failed: %s", Topics.MODELS, e.getMessage());
        }
    }

    private KafkaProducer<byte[], byte[]> producer;

    private synchronized void send(byte[] key, byte[] value) {
        try {
            if (producer == null) {
                producer = kafka.producer(Map.of(), new ByteArraySerializer(), new ByteArraySerializer());
            }
            producer.send(new ProducerRecord<>(Topics.MODELS, key, value)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf("could not publish to %s: %s", Topics.MODELS, e.getMessage());
        }
    }

    @PreDestroy
    synchronized void close() {
        actions.shutdownNow();
        if (producer != null) {
            producer.close(java.time.Duration.ofSeconds(5));
        }
    }
}
