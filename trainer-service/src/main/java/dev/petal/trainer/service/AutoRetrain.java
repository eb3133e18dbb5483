package dev.petal.trainer.service;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.records.HeaderValues;
import dev.petal.common.records.Headers;
import dev.petal.common.records.ModelEvent;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.trainer.data.DatasetIndex;
import dev.petal.trainer.job.Recipe;
import io.smallrye.reactive.messaging.ChannelRegistry;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * With {@code petal.trainer.auto-retrain-after=N}, retrains when N labelled images have arrived on petal.train since
 * the latest version of the service's model: a warm start from that version on the data as it stands (a first run
 * from scratch when there is no version yet). Started by {@code trainer serve} only, never by a one-off {@code train}.
 *
 * <p>Two channels feed it, both paused until {@link #start()}: {@code train-arrivals} (petal.train, each partition
 * read from where the latest version's dataset ended ({@link TrainArrivalsStart}), values skipped unread) and
 * {@code model-events} (petal.models:
 * a version published by this service or any other run moves the point the count starts from). A check every
 * {@code petal.trainer.auto-retrain-check} starts a run once the count reaches N and no run is going.
 */
@ApplicationScoped
public class AutoRetrain {
    private static final Logger LOG = Logger.getLogger(AutoRetrain.class);
    private static final Duration AFTER_FAILURE = Duration.ofMinutes(10);

    private final TrainingRuns runs;
    private final TrainerConfig config;
    private final ChannelRegistry channels;
    private Thread thread;
    private volatile boolean stopping;
    private Recipe base;
    /** The version the count is relative to (null before any). */
    private CheckpointManifest since;
    /** Offsets of the labelled images counted since {@link #since}, per partition of petal.train. */
    private final Map<Integer, TreeSet<Long>> counted = new HashMap<>();
    private long notBefore;

    public AutoRetrain(TrainingRuns runs, TrainerConfig config, ChannelRegistry channels) {
        this.runs = runs;
        this.config = config;
        this.channels = channels;
    }

    /** Starts counting and checking when configured; returns whether it runs. */
    public synchronized boolean start() {
        int threshold = config.settings().autoRetrainAfter();
        if (threshold <= 0 || thread != null) {
            return thread != null;
        }
        base = config.baseRecipe(null);
        since = latestStored().orElse(null);
        Duration every = config.settings().autoRetrainCheck();
        thread = new Thread(() -> loop(threshold, every), "petal-auto-retrain");
        thread.setDaemon(true);
        thread.start();
        channels.getPausable("model-events").resume();
        channels.getPausable("train-arrivals").resume();
        LOG.infof("auto-retrain: a new run after %d new labelled images, checked every %s", threshold, every);
        return true;
    }

    /** New labelled images counted since the latest version. */
    public synchronized long newImages() {
        return counted.values().stream().mapToLong(TreeSet::size).sum();
    }

    /** A record arrived on petal.train: counted when labelled, of the run's dataset, and not in the latest version. */
    @Incoming("train-arrivals")
    public synchronized void arrived(ConsumerRecord<byte[], Void> record) {
        if (record.offset() >= trainedUpTo(since, record.partition()) && isLabelled(record, dataset())) {
            counted.computeIfAbsent(record.partition(), p -> new TreeSet<>()).add(record.offset());
        }
    }

    /** A version was published on petal.models: the count starts again from the end of what it trained on. */
    @Incoming("model-events")
    @Blocking
    public void announced(ConsumerRecord<byte[], byte[]> event) {
        ModelEvent announced;
        try {
            announced = ModelEvent.parse(event.key(), event.value());
        } catch (IllegalArgumentException e) {
            LOG.warnf("ignoring an unreadable %s event at offset %d: %s", Topics.MODELS, event.offset(), e.getMessage());
            return;
        }
        if (base != null && base.modelName().equals(announced.modelName()) && !announced.version().isEmpty()) {
            try (ObjectStore store = new ObjectStore(config.s3())) {
                adopt(new CheckpointStore(store).manifest(announced.modelName(), announced.version()));
            } catch (RuntimeException e) {
                LOG.warnf("auto-retrain: cannot read version %s of %s: %s", announced.version(), announced.modelName(), e.getMessage());
            }
        }
    }

    /** Where {@code train-arrivals} starts reading {@code partition}: the end of the latest version's data. */
    synchronized long startOf(int partition) {
        return trainedUpTo(since, partition);
    }

    private synchronized void adopt(CheckpointManifest version) {
        if (since != null && since.version().equals(version.version())) {
            return;
        }
        since = version;
        counted.forEach((partition, offsets) -> offsets.headSet(trainedUpTo(version, partition)).clear());
        LOG.infof("auto-retrain: counting new images since version %s (%d so far)", version.version(), newImages());
    }

    private void loop(int threshold, Duration every) {
        while (!stopping) {
            try {
                check(threshold);
            } catch (RuntimeException e) {
                LOG.warnf("auto-retrain check failed, trying again in %s: %s", every, e.getMessage());
            }
            sleep(every);
        }
    }

    private synchronized void check(int threshold) {
        if (runs.isRunning()) {
            return;
        }
        // This service's own run published a version: its event may still be on the way.
        runs.lastPublished().filter(m -> m.name().equals(base.modelName())).ifPresent(this::adopt);
        if ("failed".equals(runs.state().get("state")) && System.currentTimeMillis() < notBefore) {
            return;
        }
        long images = newImages();
        if (images < threshold) {
            return;
        }
        Recipe recipe = since == null ? base : base.warmStartedFrom(since.recipe()).validated();
        String trigger = "auto-retrain: " + images + " new labelled images since "
                + (since == null ? "the start" : "version " + since.version());
        if (runs.start(recipe, trigger)) {
            LOG.info(trigger + "; training");
            notBefore = System.currentTimeMillis() + AFTER_FAILURE.toMillis();
        }
    }

    private Optional<CheckpointManifest> latestStored() {
        try (ObjectStore store = new ObjectStore(config.s3())) {
            CheckpointStore checkpoints = new CheckpointStore(store);
            return checkpoints.latestVersion(base.modelName()).map(v -> checkpoints.manifest(base.modelName(), v));
        } catch (RuntimeException e) {
            LOG.warnf("auto-retrain: cannot read the latest version of %s (%s); counting from the start", base.modelName(),
                    e.getMessage());
            return Optional.empty();
        }
    }

    /** The dataset a run would train on: the latest version's, else the recipe's (null: every dataset). */
    private String dataset() {
        return since == null ? base.dataset() : since.recipe().get("dataset") instanceof String d ? d : null;
    }

    /** Labelled the way a training run accepts it, and of the run's dataset (the image itself is checked by the run). */
    private static boolean isLabelled(ConsumerRecord<byte[], Void> r, String dataset) {
        return DatasetIndex.labellingProblem(HeaderValues.text(r, Headers.LABEL), HeaderValues.text(r, Headers.SPLIT)) == null
                && (dataset == null || dataset.equals(HeaderValues.text(r, Headers.DATASET)));
    }

    private static long trainedUpTo(CheckpointManifest manifest, int partition) {
        List<Long> range = manifest == null || manifest.dataset() == null ? null : manifest.dataset().offsets().get(partition);
        return range == null ? 0L : range.get(1);
    }

    private void sleep(Duration every) {
        long until = System.nanoTime() + every.toNanos();
        while (!stopping && System.nanoTime() < until) {
            try {
                Thread.sleep(Math.min(200, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @PreDestroy
    void stop() {
        stopping = true;
        Thread t = thread;
        if (t != null) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
