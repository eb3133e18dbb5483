package dev.petal.inference.scoring;

import dev.petal.common.concurrent.DaemonThreads;
import dev.petal.inference.InferenceMetrics;
import dev.petal.inference.InferenceSettings;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.ChannelRegistry;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.TracingMetadata;
import io.smallrye.reactive.messaging.annotations.Blocking;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Scores {@code petal.images} into {@code petal.predictions} and {@code petal.dlq} through the Kafka connector: the
 * {@code images} channel delivers batches (up to {@code petal.inference.max-batch} records, the broker waiting up to
 * {@code max-wait-ms} to fill one), each batch is scored by one model ({@link RecordScorer}), and its outputs leave
 * through the {@code outputs} channel. Batches are processed one at a time, in order, so outputs keep input order
 * within a partition, also across a hot reload. With {@code petal.inference.decode-ahead} the next batch is decoded
 * while the one before is on the model and being published ({@link RecordScorer#prepare}, then
 * {@link RecordScorer#finish} on the thread {@code petal-score}): the models, publishing and acknowledgements stay one
 * batch at a time, in arrival order.
 *
 * <p>At least once (the default): a batch is acknowledged only after every one of its outputs is acknowledged by the
 * broker, and the channel's commit strategy commits acknowledged offsets only. Publishing that fails (the broker away
 * longer than {@code delivery.timeout.ms}) is retried, the batch held, until it succeeds: inputs are never skipped,
 * and a crash re-delivers what was not committed. A batch whose processing throws is dead-lettered whole
 * ({@code petal-dead-letter}, {@code internal-error}). Exactly once ({@code petal.inference.exactly-once=true}) is
 * {@link TransactionalScoringLoop}'s, on plain clients: the connector's transactions do not survive a broker outage.
 *
 * <p>The channel starts paused, and is subscribed (the consumer created, the group joined) only when {@link #start()}
 * is called: by {@code serve} once the first model is loaded, so that inputs wait in Kafka and not in memory or the
 * dead-letter topic, and never by {@code classify}, {@code predictions} and the other commands.
 */
@ApplicationScoped
public class ScoringChannel {
    static final String IMAGES = "images";
    /** What {@link StallWatch} sees waiting while a batch's outputs are being published. */
    static final String OUTPUTS = "outputs of a batch";
    private static final Logger LOG = Logger.getLogger(ScoringChannel.class);
    private static final long CHANGE_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final InferenceSettings settings;
    private final RecordScorer scorer;
    private final InferenceMetrics metrics;
    private final ChannelRegistry channels;
    private final StallWatch stalls;
    private final MutinyEmitter<ProducerRecord<byte[], byte[]>> outputs;
    private volatile boolean started;
    private volatile boolean stopping;
    /** Batches between arrival and acknowledgement: at most two, one decoding while the one before is on the model. */
    private final AtomicInteger inFlight = new AtomicInteger();
    /** With {@code petal.inference.decode-ahead}: runs each batch's model, outputs and acknowledgement, in arrival order. */
    private final ExecutorService back = Executors.newSingleThreadExecutor(DaemonThreads.named("petal-score"));
    /** Recent time to decode a batch and to run one through the model, for {@link #decodeAhead}. */
    private volatile long decodeNanos;
    private volatile long modelNanos;
    private volatile boolean decodingAhead;
    /** When {@link #logChange} last logged (System.nanoTime; 0: never), and the changes since then that it did not log. */
    private long changeLoggedAt;
    private int changesNotLogged;
    /** The batch before: done once its outputs are published and it is acknowledged (or dead-lettered). */
    private volatile CompletableFuture<Void> batchBefore = CompletableFuture.completedFuture(null);
    /** When the previous batch was done (System.nanoTime), for the wait stage; 0 before the first. */
    private volatile long lastBatchEnded;

    public ScoringChannel(InferenceSettings settings, RecordScorer scorer, InferenceMetrics metrics, ChannelRegistry channels,
                          StallWatch stalls, @Channel("outputs") MutinyEmitter<ProducerRecord<byte[], byte[]>> outputs) {
        this.settings = settings;
        this.scorer = scorer;
        this.metrics = metrics;
        this.channels = channels;
        this.stalls = stalls;
        this.outputs = outputs;
    }

    /** Subscribes the {@code images} channel: the consumer joins the group and batches start to arrive. */
    public synchronized void start() {
        if (!started) {
            started = true;
            LOG.infof("scoring %s -> %s (group %s, batches of up to %d, at least once)", settings.inputTopic(),
                    settings.outputTopic(), settings.group(), settings.maxBatch());
            channels.getPausable(IMAGES).resume();
        }
    }

    public boolean isStarted() {
        return started;
    }

    @Incoming(IMAGES)
    @Blocking(ordered = true)
    public CompletionStage<Void> score(KafkaRecordBatch<byte[], byte[]> batch) {
        inFlight.incrementAndGet();
        boolean handedOn = false;
        long begun = System.nanoTime();
        if (lastBatchEnded != 0) {
            metrics.stage("wait", begun - lastBatchEnded);
        }
        try {
            if (stopping) {
                return CompletableFuture.completedFuture(null);
            }
            RecordScorer.Prepared prepared;
            try {
                prepared = scorer.prepare(inputsOf(batch), System.currentTimeMillis());
            } finally {
                // The batch before is done first, also when this one failed: the failure dead-letters this batch and
                // commits its offsets, which must not pass those of the batch before while its outputs are unpublished.
                awaitBatchBefore();
            }
            decodeNanos = average(decodeNanos, prepared.decodeNanos());
            if (!decodeAhead(prepared)) {
                return finishAndPublish(batch, prepared);
            }
            handedOn = true;
            metrics.decodedAhead();
            // The model and the publishing run on their own thread, so the connector hands over the next batch now
            // and it decodes while this one is on the model.
            batchBefore = CompletableFuture.supplyAsync(() -> {
                        long onBack = System.nanoTime();
                        try {
                            return finishAndPublish(batch, prepared);
                        } finally {
                            metrics.besideConsumingThread(System.nanoTime() - onBack);
                        }
                    }, back)
                    .thenCompose(acked -> acked)
                    .exceptionallyCompose(failure -> batch.nack(unwrapped(failure)))
                    .whenComplete((done, failure) -> inFlight.decrementAndGet());
            return CompletableFuture.completedFuture(null);
        } finally {
            lastBatchEnded = System.nanoTime();
            if (!handedOn) {
                inFlight.decrementAndGet();
            }
        }
    }

    /**
     * Whether this batch goes on to the model on {@code petal-score}, so that the next one decodes beside it: as
     * {@code petal.inference.decode-ahead} says; unset, on a GPU, and on a CPU while decoding a batch takes at least as
     * long as its forward pass (camera photos: decoding beside the model hides the faster of the two; small photos: the
     * model keeps every core busy and decoding beside it slows it more than it saves; docs/performance.md).
     */
    private boolean decodeAhead(RecordScorer.Prepared prepared) {
        boolean ahead = settings.decodeAhead().orElseGet(() -> prepared.onGpu() || modelNanos > 0 && decodeNanos >= modelNanos);
        if (ahead != decodingAhead) {
            decodingAhead = ahead;
            logChange(ahead);
        }
        return ahead;
    }

    /**
     * Logs a change of {@link #decodeAhead}'s choice, at most once a minute: where decoding and the model take about as
     * long (camera photos in fp32), the choice flips every few batches, and either way scores as fast.
     */
    private void logChange(boolean ahead) {
        long now = System.nanoTime();
        if (changeLoggedAt != 0 && now - changeLoggedAt < CHANGE_LOG_INTERVAL_NANOS) {
            changesNotLogged++;
            return;
        }
        LOG.infof("%s (decode %.1f ms a batch, model %.1f ms%s)", ahead ? "decoding each batch beside the batch before's model"
                        : "decoding each batch after the batch before is published", decodeNanos / 1e6, modelNanos / 1e6,
                changesNotLogged == 0 ? "" : "; " + changesNotLogged + " changes since the line before, not logged");
        changeLoggedAt = now;
        changesNotLogged = 0;
    }

    /** An exponential moving average over the last few batches (0: none yet). */
    private static long average(long average, long latest) {
        return average == 0 ? latest : (average * 4 + latest) / 5;
    }

    /** Waits for the batch handed to the model before this one to be published and acknowledged (or dead-lettered). */
    private void awaitBatchBefore() {
        long begun = System.nanoTime();
        batchBefore.exceptionally(failure -> null).join();
        metrics.stage("model-wait", System.nanoTime() - begun);
    }

    private static Throwable unwrapped(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    private static List<ConsumerRecord<byte[], byte[]>> inputsOf(KafkaRecordBatch<byte[], byte[]> batch) {
        List<ConsumerRecord<byte[], byte[]>> inputs = new ArrayList<>(batch.getRecords().size());
        for (KafkaRecord<byte[], byte[]> message : batch.getRecords()) {
            inputs.add(consumerRecord(message));
        }
        return inputs;
    }

    /** Not acknowledged (so not committed) when the service stops while its outputs cannot be published. */
    private CompletionStage<Void> finishAndPublish(KafkaRecordBatch<byte[], byte[]> batch, RecordScorer.Prepared prepared) {
        List<KafkaRecord<byte[], byte[]>> messages = batch.getRecords();
        RecordScorer.Scored scored = scorer.finish(prepared);
        modelNanos = average(modelNanos, scored.modelNanos());
        List<Message<ProducerRecord<byte[], byte[]>>> out = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            out.add(answering(messages.get(i), scored.outputs().get(i)));
        }
        if (!publish(out)) {
            return CompletableFuture.completedFuture(null); // stopping: not acknowledged, so not committed
        }
        scored.count(metrics);
        return batch.ack();
    }

    /**
     * Sends every output and waits for the broker to answer each. Outputs the broker did not take (the producer's and
     * the connector's retries ran out) are sent again after a pause, until taken or the service stops; outputs it took
     * are never sent again, so a retry adds no duplicate. While outputs wait, {@link StallWatch} knows since when
     * (readiness, metrics and the log say so past {@code petal.inference.stall-timeout}). Returns false when stopped
     * first.
     */
    private boolean publish(List<Message<ProducerRecord<byte[], byte[]>>> out) {
        long begun = System.nanoTime();
        try {
            return publishUntilTaken(out);
        } finally {
            metrics.stage("publish", System.nanoTime() - begun);
        }
    }

    private boolean publishUntilTaken(List<Message<ProducerRecord<byte[], byte[]>>> out) {
        stalls.waiting(OUTPUTS);
        List<Message<ProducerRecord<byte[], byte[]>>> left = out;
        while (!stopping) {
            boolean[] taken = new boolean[left.size()];
            List<Uni<Void>> acks = new ArrayList<>(left.size());
            for (int i = 0; i < left.size(); i++) {
                int index = i;
                acks.add(outputs.sendMessage(left.get(i)).invoke(() -> taken[index] = true));
            }
            try {
                // Every send answered before deciding: one failing fast could leave others still to be taken.
                Uni.join().all(acks).andCollectFailures().await().indefinitely();
                stalls.done(OUTPUTS);
                return true;
            } catch (RuntimeException e) {
                List<Message<ProducerRecord<byte[], byte[]>>> again = new ArrayList<>();
                for (int i = 0; i < left.size(); i++) {
                    if (!taken[i]) {
                        again.add(left.get(i));
                    }
                }
                stalls.failed(OUTPUTS, e);
                LOG.debugf("the broker did not take %d of %d outputs (%s); sending those again", again.size(), left.size(),
                        e.toString());
                left = again;
                if (left.isEmpty()) {
                    stalls.done(OUTPUTS);
                    return true;
                }
                pause();
            }
        }
        stalls.forget(OUTPUTS);
        return false;
    }

    /** The output as a message that carries the input's trace, so the prediction joins the image's trace. */
    private static Message<ProducerRecord<byte[], byte[]>> answering(KafkaRecord<byte[], byte[]> input,
                                                                     ProducerRecord<byte[], byte[]> output) {
        Message<ProducerRecord<byte[], byte[]>> message = Message.of(output);
        return input.getMetadata(TracingMetadata.class).map(message::addMetadata).orElse(message);
    }

    @SuppressWarnings("unchecked")
    private static ConsumerRecord<byte[], byte[]> consumerRecord(KafkaRecord<byte[], byte[]> message) {
        return message.getMetadata(IncomingKafkaRecordMetadata.class)
                .map(m -> (ConsumerRecord<byte[], byte[]>) m.getRecord())
                .orElseThrow(() -> new IllegalStateException("a batch record without its Kafka metadata"));
    }

    private void pause() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
    }

    /**
     * The service stops (before the connector closes the consumer): batches still arriving are left uncommitted for
     * the partitions' next owner, the one being scored is finished and acknowledged, so that its offsets commit before
     * the group is left and a clean stop scores nothing twice. A publish being retried gives up.
     */
    public void drain(Duration timeout) {
        stopping = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
