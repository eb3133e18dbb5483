package dev.petal.trainer.service;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.trainer.data.DatasetIndex;
import dev.petal.trainer.data.TrainerClients;
import dev.petal.trainer.job.Recipe;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * With {@code petal.trainer.auto-retrain-after=N}, retrains when N labelled images have arrived on
 * petal.train since the latest version of the service's model: a warm start from that version on
 * the data as it stands (a first run from scratch when there is no version yet). Checks every
 * {@code petal.trainer.auto-retrain-check}; counts each new record once, reading from where the
 * last check stopped. Started by {@code trainer serve} only, never by a one-off {@code train}.
 */
@ApplicationScoped
public class AutoRetrain {
    private static final Logger LOG = Logger.getLogger(AutoRetrain.class);
    private static final Duration AFTER_FAILURE = Duration.ofMinutes(10);

    private final TrainingRuns runs;
    private Thread thread;
    private volatile boolean stopping;
    private volatile long newImages;
    private String countedSince; // the version the count is relative to ("" before any)
    private final Map<TopicPartition, Long> position = new HashMap<>();
    private long notBefore;

    public AutoRetrain(TrainingRuns runs) {
        this.runs = runs;
    }

    /** Starts the background check when configured; returns whether it runs. */
    public synchronized boolean start() {
        int threshold = TrainerConfig.autoRetrainAfter();
        if (threshold <= 0 || thread != null) {
            return thread != null;
        }
        Duration every = TrainerConfig.autoRetrainCheck();
        thread = new Thread(() -> loop(threshold, every), "petal-auto-retrain");
        thread.setDaemon(true);
        thread.start();
        LOG.infof("auto-retrain: a new run after %d new labelled images, checked every %s", threshold, every);
        return true;
    }

    /** New labelled images counted since the latest version (as of the last check). */
    public long newImages() {
        return newImages;
    }

    private void loop(int threshold, Duration every) {
        Recipe base = TrainerConfig.baseRecipe(null);
        try (ObjectStore store = new ObjectStore(TrainerConfig.s3());
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(TrainerClients.reader(TrainerConfig.kafka()))) {
            CheckpointStore checkpoints = new CheckpointStore(store);
            while (!stopping) {
                try {
                    check(base, threshold, checkpoints, consumer);
                } catch (RuntimeException e) {
                    LOG.warnf("auto-retrain check failed, trying again in %s: %s", every, e.getMessage());
                }
                sleep(every);
            }
        }
    }

    private void check(Recipe base, int threshold, CheckpointStore checkpoints, KafkaConsumer<byte[], byte[]> consumer) {
        if (runs.isRunning()) {
            return;
        }
        if ("failed".equals(runs.state().get("state")) && System.currentTimeMillis() < notBefore) {
            return;
        }
        Optional<String> latest = checkpoints.latestVersion(base.modelName());
        CheckpointManifest manifest = latest.map(v -> checkpoints.manifest(base.modelName(), v)).orElse(null);
        String since = latest.orElse("");
        List<TopicPartition> partitions = partitions(consumer);
        if (!since.equals(countedSince)) {
            // A new version: count from the end of what it trained on.
            position.clear();
            newImages = 0;
            countedSince = since;
            for (TopicPartition tp : partitions) {
                position.put(tp, manifest == null ? 0L : trainedUpTo(manifest, tp.partition()));
            }
        }
        String dataset = manifest == null ? base.dataset() : manifest.recipe().get("dataset") instanceof String d ? d : null;
        newImages += countLabelled(consumer, partitions, dataset);
        if (newImages < threshold) {
            return;
        }
        Recipe recipe = manifest == null ? base : base.warmStartedFrom(manifest.recipe()).validated();
        String trigger = "auto-retrain: " + newImages + " new labelled images since " + (manifest == null ? "the start" : "version " + since);
        if (runs.start(recipe, trigger)) {
            LOG.info(trigger + "; training");
            notBefore = System.currentTimeMillis() + AFTER_FAILURE.toMillis();
        }
    }

    private long countLabelled(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions, String dataset) {
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        long counted = 0;
        for (TopicPartition tp : partitions) {
            long from = Math.max(position.getOrDefault(tp, 0L), consumer.beginningOffsets(List.of(tp)).get(tp));
            long to = end.get(tp);
            if (from >= to) {
                position.put(tp, to);
                continue;
            }
            consumer.assign(List.of(tp));
            consumer.seek(tp, from);
            while (consumer.position(tp) < to && !stopping) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500)).records(tp)) {
                    if (r.offset() < to && isLabelled(r, dataset)) {
                        counted++;
                    }
                }
            }
            position.put(tp, to);
        }
        consumer.assign(List.of());
        return counted;
    }

    /** Labelled the way a training run accepts it, and of the run's dataset (the image itself is checked by the run). */
    private static boolean isLabelled(ConsumerRecord<byte[], byte[]> r, String dataset) {
        return DatasetIndex.labellingProblem(DatasetIndex.header(r, Headers.LABEL), DatasetIndex.header(r, Headers.SPLIT)) == null
                && (dataset == null || dataset.equals(DatasetIndex.header(r, Headers.DATASET)));
    }

    private static long trainedUpTo(CheckpointManifest manifest, int partition) {
        List<Long> range = manifest.dataset() == null ? null : manifest.dataset().offsets().get(partition);
        return range == null ? 0L : range.get(1);
    }

    private static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer) {
        List<PartitionInfo> infos = consumer.partitionsFor(Topics.TRAIN, Duration.ofSeconds(10));
        return infos == null ? List.of() : infos.stream().map(i -> new TopicPartition(Topics.TRAIN, i.partition())).toList();
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
