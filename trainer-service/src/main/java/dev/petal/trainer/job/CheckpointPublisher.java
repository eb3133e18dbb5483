package dev.petal.trainer.job;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.concurrent.DaemonThreads;
import dev.petal.common.records.ModelEvent;
import dev.petal.common.records.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jboss.logging.Logger;

/**
 * Uploads checkpoints on a background thread so that training goes on while storage is slow or
 * down. Each version is retried with exponential backoff until it is stored whole (files, manifest,
 * then {@code latest}: readers never see a half-written version), then announced on petal.models.
 * At most one version waits behind the one uploading; a newer one replaces it, since it holds
 * everything the older one had and the older one was never visible.
 */
final class CheckpointPublisher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CheckpointPublisher.class);

    private final CheckpointStore checkpoints;
    private final KafkaProducer<byte[], byte[]> producer;
    private final String bucket;
    private final TrainingListener listener;
    private final Duration firstBackoff;
    private final Duration maxBackoff;
    private final Duration giveUpAfter;
    private final ExecutorService uploader = Executors.newSingleThreadExecutor(DaemonThreads.named("petal-checkpoint-upload"));

    private Pending waiting;
    private boolean uploading;
    private CheckpointManifest lastPublished;
    private RuntimeException failure;
    private final java.util.List<CheckpointManifest> published = new java.util.ArrayList<>();

    private record Pending(CheckpointManifest draft, Map<String, byte[]> files) {}

    CheckpointPublisher(CheckpointStore checkpoints, KafkaProducer<byte[], byte[]> producer, String bucket,
                        CheckpointManifest parent, TrainingListener listener, Duration firstBackoff, Duration maxBackoff,
                        Duration giveUpAfter) {
        this.checkpoints = checkpoints;
        this.producer = producer;
        this.bucket = bucket;
        this.lastPublished = parent;
        this.listener = listener;
        this.firstBackoff = firstBackoff;
        this.maxBackoff = maxBackoff;
        this.giveUpAfter = giveUpAfter;
    }

    /** Queues a version; returns at once. Throws if an earlier version could not be stored at all. */
    synchronized void submit(CheckpointManifest draft, Map<String, byte[]> files) {
        throwIfFailed();
        if (waiting != null) {
            LOG.infof("checkpoint %s replaces %s, which was still waiting for storage", draft.version(), waiting.draft().version());
        }
        waiting = new Pending(draft, files);
        if (!uploading) {
            uploading = true;
            uploader.submit(this::drain);
        }
    }

    /** Waits until every queued version is stored and announced; returns the newest one published. */
    synchronized CheckpointManifest awaitAll() throws InterruptedException {
        while (uploading && failure == null) {
            wait(1000);
        }
        throwIfFailed();
        return lastPublished;
    }

    /** Every version this publisher stored and announced, in order. */
    synchronized java.util.List<CheckpointManifest> published() {
        return java.util.List.copyOf(published);
    }

    private void drain() {
        while (true) {
            Pending next;
            CheckpointManifest parent;
            synchronized (this) {
                next = waiting;
                waiting = null;
                parent = lastPublished;
                if (next == null) {
                    uploading = false;
                    notifyAll();
                    return;
                }
            }
            try {
                CheckpointManifest published = store(withParent(next.draft(), parent), next.files());
                announce(published);
                synchronized (this) {
                    lastPublished = published;
                    this.published.add(published);
                }
                listener.onPublished(published);
            } catch (RuntimeException e) {
                synchronized (this) {
                    failure = e;
                    uploading = false;
                    notifyAll();
                }
                return;
            }
        }
    }

    private CheckpointManifest store(CheckpointManifest draft, Map<String, byte[]> files) {
        long deadline = System.nanoTime() + giveUpAfter.toNanos();
        long backoff = firstBackoff.toMillis();
        for (int attempt = 1; ; attempt++) {
            try {
                return checkpoints.publish(draft, files);
            } catch (RuntimeException e) {
                if (System.nanoTime() + backoff * 1_000_000 > deadline) {
                    throw new IllegalStateException("could not store checkpoint " + draft.version() + " in " + giveUpAfter.toSeconds()
                            + " s of retries (" + attempt + " attempts): " + e.getMessage(), e);
                }
                LOG.warnf("storing checkpoint %s failed (attempt %d): %s; retrying in %d ms, training goes on",
                        draft.version(), attempt, e.getMessage(), backoff);
                listener.onUploadRetry(draft.version(), attempt, e);
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while storing checkpoint " + draft.version(), ie);
                }
                backoff = Math.min(backoff * 2, maxBackoff.toMillis());
            }
        }
    }

    private void announce(CheckpointManifest manifest) {
        String manifestKey = ModelEvent.manifestKey(manifest.name(), manifest.version());
        try {
            producer.send(new ProducerRecord<>(Topics.MODELS, ModelEvent.key(manifest), ModelEvent.value(manifest))).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            // The version is in storage and latest points at it; inference also finds it by polling latest.
            LOG.warnf("checkpoint %s stored, but the petal.models event failed: %s", manifest.version(), e.getMessage());
        }
        LOG.infof("published %s version %s: s3://%s/%s (report s3://%s/%s%s)", manifest.name(), manifest.version(), bucket,
                manifestKey, bucket, CheckpointStore.versionPrefix(manifest.name(), manifest.version()), TrainingJob.REPORT_FILE);
    }

    private static CheckpointManifest withParent(CheckpointManifest m, CheckpointManifest parent) {
        return new CheckpointManifest(m.formatVersion(), m.name(), m.version(), parent == null ? null : parent.version(),
                m.createdAt(), m.model(), m.recipe(), m.epoch(), m.step(), m.metrics(), m.dataset(), m.files(), m.signature(),
                m.activationRanges());
    }

    private void throwIfFailed() {
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void close() {
        uploader.shutdownNow();
    }
}
