package dev.petal.inference.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointIntegrityException;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.inference.Classifier;
import dev.petal.common.inference.LoadedModel;
import dev.petal.common.inference.ModelSource;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStoreException;
import dev.petal.inference.InferenceMetrics;
import dev.petal.inference.InferenceSettings;
import dev.petal.inference.KafkaClients;
import dev.petal.inference.Storage;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * Keeps the served model current: on start it loads the pinned version or {@code latest}, then
 * follows {@code petal.models} (a reader of every partition from its end, outside any consumer group,
 * so each replica sees every event) and reads {@code models/<name>/latest} every poll interval in
 * case an event was missed. A new version is downloaded, every file's sha256 checked, loaded,
 * warmed on a dummy batch and only then swapped in; until then the old one keeps serving. A version
 * that fails verification or loading is refused once (log line and metric) and never retried: versions
 * are immutable. A storage outage is not a refusal: the version is tried again on the next poll.
 */
@ApplicationScoped
public class ModelWatcher {
    private static final Logger LOG = Logger.getLogger(ModelWatcher.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final InferenceSettings settings;
    private final KafkaClients kafka;
    private final Storage storage;
    private final ModelHolder holder;
    private final InferenceMetrics metrics;
    private final Set<String> refused = ConcurrentHashMap.newKeySet();
    private volatile boolean running;
    private volatile boolean failed;
    private Thread thread;

    public ModelWatcher(InferenceSettings settings, KafkaClients kafka, Storage storage, ModelHolder holder, InferenceMetrics metrics) {
        this.settings = settings;
        this.kafka = kafka;
        this.storage = storage;
        this.holder = holder;
        this.metrics = metrics;
    }

    public synchronized void start() {
        if (thread != null) {
            return;
        }
        running = true;
        thread = new Thread(this::run, "petal-model-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    public void stop() {
        running = false;
        Thread t = thread;
        if (t != null) {
            // No interrupt: it would break the Kafka consumer's close. The loop checks the flag twice a second.
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** False once the watcher has died of an unexpected error (a pinned watcher that is done is fine). */
    public boolean isAlive() {
        return !failed;
    }

    /** Versions refused so far (failed verification or loading). */
    public Set<String> refusedVersions() {
        return Set.copyOf(refused);
    }

    private void run() {
        Optional<String> pinned = settings.modelVersion().filter(v -> !v.isBlank());
        if (pinned.isPresent()) {
            LOG.infof("serving %s version %s only (pinned): not following latest", settings.modelName(), pinned.get());
            while (running && !holder.isLoaded() && !refused.contains(pinned.get())) {
                offer(pinned.get());
                sleep(settings.pollInterval());
            }
            return;
        }
        try (KafkaConsumer<byte[], byte[]> events = kafka.readerConsumer()) {
            List<TopicPartition> partitions = events.partitionsFor(Topics.MODELS, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            events.assign(partitions);
            events.seekToEnd(partitions);
            partitions.forEach(events::position); // fix the end now, so events published from here on are seen
            long nextPoll = 0;
            while (running) {
                if (System.currentTimeMillis() >= nextPoll) {
                    latest().ifPresent(this::offer);
                    nextPoll = System.currentTimeMillis() + settings.pollInterval().toMillis();
                }
                for (ConsumerRecord<byte[], byte[]> event : events.poll(Duration.ofMillis(500))) {
                    versionIn(event).ifPresent(this::offer);
                }
            }
        } catch (org.apache.kafka.common.errors.InterruptException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (running) {
                failed = true;
                LOG.error("the model watcher stopped; the current model keeps serving", e);
            }
        }
    }

    private Optional<String> latest() {
        try {
            return storage.checkpoints().latestVersion(settings.modelName());
        } catch (ObjectStoreException e) {
            LOG.warnf("cannot read the latest version of %s: %s", settings.modelName(), e.getMessage());
            return Optional.empty();
        }
    }

    /** The version an event announces, from its manifest or its object key; empty when it is about another model. */
    Optional<String> versionIn(ConsumerRecord<byte[], byte[]> event) {
        String key = event.key() == null ? null : new String(event.key(), StandardCharsets.UTF_8);
        try {
            JsonNode value = JSON.readTree(event.value());
            JsonNode manifest = value.path("manifest");
            String name = manifest.path("name").asText(key);
            if (!settings.modelName().equals(name)) {
                return Optional.empty();
            }
            String version = manifest.path("version").asText("");
            if (version.isEmpty()) {
                String[] parts = value.path("key").asText("").split("/");
                version = parts.length >= 3 ? parts[2] : "";
            }
            return version.isEmpty() ? Optional.empty() : Optional.of(version);
        } catch (Exception e) {
            LOG.warnf("ignoring an unreadable %s event at offset %d: %s", Topics.MODELS, event.offset(), e.getMessage());
            return Optional.empty();
        }
    }

    /** Loads {@code version} unless it is being served or was refused. */
    synchronized void offer(String version) {
        if (holder.version().map(version::equals).orElse(false) || refused.contains(version)) {
            return;
        }
        String name = settings.modelName();
        long start = System.nanoTime();
        LoadedModel loaded;
        Classifier classifier;
        try {
            loaded = ModelSource.fromStore(storage.checkpoints(), name, version);
        } catch (CheckpointIntegrityException | IllegalArgumentException e) {
            refuse(version, e);
            return;
        } catch (ObjectStoreException e) {
            LOG.warnf("cannot fetch %s/%s yet (%s); will try again", name, version, e.getMessage());
            return;
        }
        try {
            classifier = Classifier.load(loaded, PyTorchEngine.device(settings.device()));
        } catch (RuntimeException e) {
            refuse(version, e);
            return;
        }
        try {
            classifier.warmUp(1);
        } catch (RuntimeException e) {
            classifier.close();
            refuse(version, e);
            return;
        }
        String previous = holder.version().orElse("none");
        holder.swap(classifier, loaded);
        metrics.reloaded(version);
        LOG.infof("now serving %s/%s (was %s; weights sha256 %s; loaded and warmed in %d ms)", name, version, previous,
                loaded.id().sha256(), (System.nanoTime() - start) / 1_000_000);
    }

    private void refuse(String version, Exception e) {
        refused.add(version);
        metrics.refused();
        LOG.errorf("refused model %s/%s: %s; still serving %s", settings.modelName(), version, e.getMessage(),
                holder.version().orElse("nothing"));
    }

    private void sleep(Duration duration) {
        long until = System.currentTimeMillis() + duration.toMillis();
        try {
            while (running && System.currentTimeMillis() < until) {
                Thread.sleep(Math.min(200, Math.max(1, until - System.currentTimeMillis())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }
}
