package dev.petal.inference.scoring;

import dev.petal.common.inference.ModelId;
import dev.petal.common.inference.Prediction;
import dev.petal.common.records.Headers;
import dev.petal.inference.InferenceMetrics;
import dev.petal.inference.InferenceSettings;
import dev.petal.inference.KafkaClients;
import dev.petal.inference.model.ModelHolder;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.Header;
import org.jboss.logging.Logger;

/**
 * Scores {@code petal.images} into {@code petal.predictions} and {@code petal.dlq}, one output per
 * input.
 *
 * <p>Why a plain {@link KafkaConsumer} loop and not a SmallRye {@code @Incoming} channel: the
 * delivery rule is easiest to see (and to get right) when one thread owns poll, score, publish and
 * commit in that order. Offsets are committed only after every output of the batch is acknowledged
 * by the broker, so a crash or rebalance at any point re-delivers unfinished inputs (at least once);
 * with {@code petal.inference.exactly-once=true} the outputs and the offsets commit in one Kafka
 * transaction instead. A failed publish or commit (broker away, timeouts, a rebalance) never stops the
 * loop: at least once, it rewinds to the batch and retries; exactly once, it aborts (or, when the producer
 * cannot say how the transaction ended, replaces the producer under the same transactional id) and goes
 * back to the group's committed offsets (FaultToleranceTest kills, restarts and starves it).
 *
 * <p>Consumption must not start before a model is loaded (inputs wait in Kafka, not in memory or the
 * dead-letter topic), nor at all in {@code classify}/{@code predictions}: the loop subscribes only when
 * {@code serve} starts it and the first model is in.
 *
 * <p>Batches: up to {@code max-batch} records, waiting at most {@code max-wait-ms} after the first.
 * A model swap takes effect between batches (each batch leases one model). Latency is measured from
 * the input record's timestamp (producer create time, or broker append time) to the moment its
 * prediction is handed to the producer; records without a timestamp count from when they were polled.
 */
@ApplicationScoped
public class ScoringLoop {
    private static final Logger LOG = Logger.getLogger(ScoringLoop.class);
    private static final Duration IDLE_POLL = Duration.ofMillis(200);

    /** Which topics and group a loop serves: the contract's by default, others for the benchmark. */
    public record Route(String inputTopic, String outputTopic, String deadLetterTopic, String group) {}

    /** A polled record and when it was polled. */
    private record Polled(ConsumerRecord<byte[], byte[]> record, long polledAtMillis) {}

    private final InferenceSettings settings;
    private final KafkaClients kafka;
    private final ModelHolder holder;
    private final ImageScorer scorer;
    private final ClaimCheck claimCheck;
    private final InferenceMetrics metrics;
    private final Deque<Polled> pending = new ArrayDeque<>();
    private volatile boolean running;
    private volatile boolean consuming;
    private Route route;
    private Thread thread;
    /** The output producer and its transactional id (null: at least once); owned by the loop's thread. */
    private KafkaProducer<byte[], byte[]> producer;
    private String transactionalId;

    public ScoringLoop(InferenceSettings settings, KafkaClients kafka, ModelHolder holder, ImageScorer scorer,
                       ClaimCheck claimCheck, InferenceMetrics metrics) {
        this.settings = settings;
        this.kafka = kafka;
        this.holder = holder;
        this.scorer = scorer;
        this.claimCheck = claimCheck;
        this.metrics = metrics;
    }

    public void start() {
        start(new Route(settings.inputTopic(), settings.outputTopic(), settings.deadLetterTopic(), settings.group()));
    }

    public synchronized void start(Route route) {
        if (thread != null) {
            return;
        }
        this.route = route;
        running = true;
        thread = new Thread(this::run, "petal-scoring");
        thread.start();
    }

    /** Finishes the batch in flight, commits it, leaves the group. */
    public void stop() {
        running = false;
        Thread t = thread;
        if (t != null) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public boolean isStarted() {
        return thread != null;
    }

    /** True while started and not crashed (a stopped or never-started loop is not a failure). */
    public boolean isHealthy() {
        return thread == null || !running || thread.isAlive();
    }

    /** Subscribed to the input topic (a model is loaded). */
    public boolean isConsuming() {
        return consuming;
    }

    private void run() {
        try {
            while (running && !holder.awaitLoaded(500)) {
                // Inputs wait in Kafka until there is a model to score them.
            }
        } catch (InterruptedException e) {
            return;
        }
        if (!running) {
            return;
        }
        boolean transactional = settings.exactlyOnce();
        transactionalId = transactional ? KafkaClients.transactionalId(route.group()) : null;
        try (KafkaConsumer<byte[], byte[]> consumer = kafka.groupConsumer(route.group(), settings.maxBatch())) {
            producer = openProducer();
            if (producer == null) {
                return; // stopped while the broker was away
            }
            consumer.subscribe(List.of(route.inputTopic()), new DropRevoked());
            consuming = true;
            LOG.infof("scoring %s -> %s (group %s, batches of up to %d, %s)", route.inputTopic(), route.outputTopic(),
                    route.group(), settings.maxBatch(), transactional ? "exactly once" : "at least once");
            while (running) {
                List<Polled> batch = nextBatch(consumer);
                if (!batch.isEmpty()) {
                    process(batch, consumer, transactional);
                }
            }
        } catch (RuntimeException e) {
            LOG.error("the scoring loop stopped", e);
            throw e;
        } finally {
            consuming = false;
            pending.clear();
            if (producer != null) {
                producer.close();
                producer = null;
            }
        }
    }

    /**
     * The output producer; transactional ones are initialised here, and a broker that does not answer
     * yet is waited for (null: stopped while waiting). Every producer of this loop has the same
     * transactional id, so a replacement settles whatever its predecessor left open.
     */
    private KafkaProducer<byte[], byte[]> openProducer() {
        while (true) {
            KafkaProducer<byte[], byte[]> opened = kafka.producer(transactionalId);
            if (transactionalId == null) {
                return opened;
            }
            try {
                opened.initTransactions();
                return opened;
            } catch (RetriableException e) {
                opened.close(Duration.ZERO);
                if (!running) {
                    return null;
                }
                LOG.warnf("cannot initialise transactions yet (%s); trying again", e.toString());
                pause();
            } catch (RuntimeException e) {
                opened.close(Duration.ZERO);
                throw e;
            }
        }
    }

    /** Up to max-batch records; once the first is in, waits at most max-wait-ms for the rest. */
    private List<Polled> nextBatch(KafkaConsumer<byte[], byte[]> consumer) {
        int max = settings.maxBatch();
        long deadline = pending.isEmpty() ? -1 : System.currentTimeMillis() + settings.maxWaitMs();
        while (pending.size() < max && running) {
            Duration timeout;
            if (deadline < 0) {
                timeout = IDLE_POLL;
            } else {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    break;
                }
                timeout = Duration.ofMillis(left);
            }
            long now = System.currentTimeMillis();
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
                pending.add(new Polled(r, now));
            }
            if (deadline < 0) {
                if (pending.isEmpty()) {
                    return List.of();
                }
                deadline = System.currentTimeMillis() + settings.maxWaitMs();
            }
        }
        List<Polled> batch = new ArrayList<>(Math.min(max, pending.size()));
        while (batch.size() < max && !pending.isEmpty()) {
            batch.add(pending.poll());
        }
        return batch;
    }

    private void process(List<Polled> batch, KafkaConsumer<byte[], byte[]> consumer, boolean transactional) {
        long start = System.nanoTime();
        Optional<ModelHolder.Lease> held = holder.acquire();
        if (held.isEmpty()) {
            throw new IllegalStateException("no model, though one was loaded before consumption started");
        }
        List<ProducerRecord<byte[], byte[]>> outputs = new ArrayList<>(batch.size());
        List<Double> latencies = new ArrayList<>();
        List<String> deadClasses = new ArrayList<>();
        try (ModelHolder.Lease lease = held.get()) {
            List<ImageInput> inputs = new ArrayList<>(batch.size());
            for (Polled p : batch) {
                inputs.add(inputOf(p.record()));
            }
            List<ImageScorer.Outcome> outcomes = scorer.score(inputs, lease.classifier());
            ModelId model = lease.classifier().id();
            for (int i = 0; i < batch.size(); i++) {
                ConsumerRecord<byte[], byte[]> in = batch.get(i).record();
                ImageScorer.Outcome outcome = outcomes.get(i);
                if (outcome.scored()) {
                    long from = in.timestamp() > 0 ? in.timestamp() : batch.get(i).polledAtMillis();
                    double latency = Math.max(0, System.currentTimeMillis() - from);
                    Prediction p = Prediction.of(OutputRecords.predictionId(in), outcome.top(), model,
                            Prediction.Source.record(in.topic(), in.partition(), in.offset()), latency);
                    outputs.add(OutputRecords.prediction(route.outputTopic(), in, p));
                    latencies.add(latency);
                } else {
                    outputs.add(OutputRecords.deadLetter(route.deadLetterTopic(), in, outcome.rejection()));
                    deadClasses.add(outcome.rejection().errorClass());
                }
            }
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = nextOffsets(batch);
        try {
            if (transactional) {
                producer.beginTransaction();
                outputs.forEach(producer::send);
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                producer.commitTransaction();
            } else {
                List<Future<RecordMetadata>> acks = new ArrayList<>(outputs.size());
                outputs.forEach(r -> acks.add(producer.send(r)));
                producer.flush();
                for (Future<RecordMetadata> ack : acks) {
                    ack.get(); // throws if the broker did not take it: then nothing is committed
                }
                consumer.commitSync(offsets);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            rewind(consumer, batch, "interrupted");
            return;
        } catch (Exception e) {
            if (transactional) {
                recoverTransaction(consumer, batch, e);
            } else {
                rewind(consumer, batch, e.toString());
            }
            return;
        }
        latencies.forEach(metrics::prediction);
        deadClasses.forEach(metrics::deadLetter);
        metrics.batch(batch.size(), Duration.ofNanos(System.nanoTime() - start));
    }

    private ImageInput inputOf(ConsumerRecord<byte[], byte[]> in) {
        Header ref = in.headers().lastHeader(Headers.IMAGE_REF);
        if (ref != null) {
            return claimCheck.input(ref.value() == null ? null : new String(ref.value(), StandardCharsets.UTF_8));
        }
        byte[] value = in.value() == null ? new byte[0] : in.value();
        return ImageInput.of(value);
    }

    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(List<Polled> batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (Polled p : batch) {
            TopicPartition tp = new TopicPartition(p.record().topic(), p.record().partition());
            long next = p.record().offset() + 1;
            OffsetAndMetadata known = offsets.get(tp);
            if (known == null || known.offset() < next) {
                offsets.put(tp, new OffsetAndMetadata(next));
            }
        }
        return offsets;
    }

    /**
     * Publishing or committing failed: go back to the first uncommitted record of each partition
     * (this batch and everything polled after it) and try again after a pause. Inputs whose outputs
     * did reach the broker are scored again: at least once.
     */
    private void rewind(KafkaConsumer<byte[], byte[]> consumer, List<Polled> batch, String why) {
        LOG.warnf("could not publish or commit a batch of %d (%s); going back to retry it", batch.size(), why);
        Map<TopicPartition, Long> first = new HashMap<>();
        List<Polled> all = new ArrayList<>(batch);
        all.addAll(pending);
        pending.clear();
        for (Polled p : all) {
            first.merge(new TopicPartition(p.record().topic(), p.record().partition()), p.record().offset(), Math::min);
        }
        first.forEach((tp, offset) -> {
            if (consumer.assignment().contains(tp)) {
                consumer.seek(tp, offset);
            }
        });
        pause();
    }

    /**
     * A transaction failed (broker away, a timeout, a rebalance, fencing): its outcome may be unknown, as
     * when {@code commitTransaction} timed out, which the producer then insists on retrying and will not
     * abort. So: abort it if the producer can; otherwise replace the producer, whose {@code initTransactions}
     * under the same transactional id completes or aborts what was left open. Then the group's committed
     * offsets say what is done (outputs and offsets commit together), and every assigned partition goes
     * back to them: nothing is skipped, and nothing committed is scored again.
     */
    private void recoverTransaction(KafkaConsumer<byte[], byte[]> consumer, List<Polled> batch, Exception why) {
        LOG.warnf("could not commit the transaction of a batch of %d (%s); recovering", batch.size(), why.toString());
        try {
            producer.abortTransaction();
        } catch (RuntimeException abortFailed) {
            LOG.warnf("could not abort the transaction (%s); starting a new producer under the same transactional id",
                    abortFailed.toString());
            producer.close(Duration.ZERO);
            producer = openProducer();
            if (producer == null) {
                return; // stopping: nothing committed, the partitions' next owner starts from the committed offsets
            }
        }
        pending.clear();
        while (running) {
            try {
                Set<TopicPartition> assigned = consumer.assignment();
                Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned);
                for (TopicPartition tp : assigned) {
                    OffsetAndMetadata at = committed.get(tp);
                    if (at != null) {
                        consumer.seek(tp, at);
                    } else {
                        consumer.seekToBeginning(List.of(tp)); // nothing committed yet: auto.offset.reset=earliest
                    }
                }
                break;
            } catch (RetriableException e) {
                LOG.warnf("cannot read the committed offsets yet (%s); trying again", e.toString());
                pause();
            }
        }
        pause();
    }

    private void pause() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Records polled but not yet scored from a partition we lose are dropped: their offsets were not
     * committed, so the partition's next owner scores them (no duplicates, nothing lost).
     */
    private final class DropRevoked implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            pending.removeIf(p -> partitions.contains(new TopicPartition(p.record().topic(), p.record().partition())));
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            LOG.debugf("assigned %s", partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            onPartitionsRevoked(partitions);
        }
    }
}
