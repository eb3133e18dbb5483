package dev.petal.inference.scoring;

import dev.petal.common.records.KafkaClients;
import dev.petal.inference.InferenceMetrics;
import dev.petal.inference.InferenceSettings;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jboss.logging.Logger;

/**
 * Exactly once ({@code petal.inference.exactly-once=true}): scores {@code petal.images} with a plain consumer and a
 * transactional producer, the outputs and the input offsets of each batch committed in one Kafka transaction.
 *
 * <p>Why not the {@code images} channel with the connector's {@code KafkaTransactions}, as at least once does: the
 * connector cannot recover a transactional producer whose transaction timed out. With the broker away longer than the
 * client timeouts, {@code abortTransaction} fails ("must be retried") and every later {@code beginTransaction} is
 * refused, so scoring stops for good; and a broker restart left some partitions unscored after the rebalance abort
 * ({@code FaultToleranceTest.brokerOutageOutlastingClientTimeoutsExactlyOnce} and {@code brokerRestartExactlyOnce},
 * run on the connector: docs/messaging.md). Here, one thread owns poll, score, publish and commit; a failed
 * transaction is aborted or, when the producer cannot say how it ended, the producer is replaced under the same
 * transactional id (its {@code initTransactions} settles what was left open), and every assigned partition goes back
 * to the group's committed offsets.
 *
 * <p>Batches: up to {@code max-batch} records, waiting at most {@code max-wait-ms} after the first. The consumer
 * subscribes only when {@link #start()} is called ({@code serve}, once a model is loaded).
 */
@ApplicationScoped
public class TransactionalScoringLoop {
    private static final Logger LOG = Logger.getLogger(TransactionalScoringLoop.class);
    private static final Duration IDLE_POLL = Duration.ofMillis(200);
    /** {@code transaction.timeout.ms} unless {@code kafka.transaction.timeout.ms} says otherwise (Kafka's is 60 s). */
    static final int TRANSACTION_TIMEOUT_MS = 15_000;
    /** What {@link StallWatch} sees waiting while a batch's transaction (outputs and offsets) is not committed. */
    static final String TRANSACTION = "a batch's transaction (outputs and offsets)";

    private final InferenceSettings settings;
    private final KafkaClients kafka;
    private final RecordScorer scorer;
    private final InferenceMetrics metrics;
    private final StallWatch stalls;
    private final Deque<ConsumerRecord<byte[], byte[]>> pending = new ArrayDeque<>();
    private volatile boolean running;
    private Thread thread;
    private KafkaProducer<byte[], byte[]> producer;
    private String transactionalId;

    public TransactionalScoringLoop(InferenceSettings settings, KafkaClients kafka, RecordScorer scorer, InferenceMetrics metrics,
                                    StallWatch stalls) {
        this.settings = settings;
        this.kafka = kafka;
        this.scorer = scorer;
        this.metrics = metrics;
        this.stalls = stalls;
    }

    public synchronized void start() {
        if (thread != null) {
            return;
        }
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

    /** True while started and not crashed (a stopped or never-started loop is not a failure). */
    public boolean isHealthy() {
        return thread == null || !running || thread.isAlive();
    }

    private void run() {
        // Unique per instance: since KIP-447 fencing goes by consumer group generation, not by transactional id.
        transactionalId = settings.group() + "-" + UUID.randomUUID();
        try (KafkaConsumer<byte[], byte[]> consumer = groupConsumer()) {
            producer = openProducer();
            if (producer == null) {
                return; // stopped while the broker was away
            }
            consumer.subscribe(List.of(settings.inputTopic()), new DropRevoked());
            LOG.infof("scoring %s -> %s (group %s, batches of up to %d, exactly once)", settings.inputTopic(),
                    settings.outputTopic(), settings.group(), settings.maxBatch());
            while (running) {
                List<ConsumerRecord<byte[], byte[]>> batch = nextBatch(consumer);
                if (!batch.isEmpty()) {
                    process(batch, consumer);
                }
            }
        } catch (RuntimeException e) {
            LOG.error("the scoring loop stopped", e);
            throw e;
        } finally {
            stalls.forget(TRANSACTION);
            pending.clear();
            if (producer != null) {
                producer.close();
                producer = null;
            }
        }
    }

    private KafkaConsumer<byte[], byte[]> groupConsumer() {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.GROUP_ID_CONFIG, settings.group());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, settings.maxBatch());
        return kafka.consumer(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * The transactional producer, initialised; a broker that does not answer yet is waited for (null: stopped while
     * waiting). Every producer of this loop has the same transactional id, so a replacement settles whatever its
     * predecessor left open. A transaction left open by a replica that died (kill -9) blocks readers of its output
     * partitions until the broker aborts it after {@code transaction.timeout.ms}: {@value #TRANSACTION_TIMEOUT_MS} ms
     * here, as a scoring transaction spans only one batch's send and commit.
     */
    private KafkaProducer<byte[], byte[]> openProducer() {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 32 * 1024 * 1024);
        if (!kafka.connection().containsKey(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)) {
            config.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, TRANSACTION_TIMEOUT_MS);
        }
        while (true) {
            KafkaProducer<byte[], byte[]> opened = kafka.producer(config, new ByteArraySerializer(), new ByteArraySerializer());
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
    private List<ConsumerRecord<byte[], byte[]>> nextBatch(KafkaConsumer<byte[], byte[]> consumer) {
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
            consumer.poll(timeout).forEach(pending::add);
            if (deadline < 0) {
                if (pending.isEmpty()) {
                    return List.of();
                }
                deadline = System.currentTimeMillis() + settings.maxWaitMs();
            }
        }
        List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>(Math.min(max, pending.size()));
        while (batch.size() < max && !pending.isEmpty()) {
            batch.add(pending.poll());
        }
        return batch;
    }

    private void process(List<ConsumerRecord<byte[], byte[]>> batch, KafkaConsumer<byte[], byte[]> consumer) {
        RecordScorer.Scored scored = scorer.score(batch, System.currentTimeMillis());
        stalls.waiting(TRANSACTION); // since the first try of the batch: a recovered, retried one keeps waiting
        try {
            producer.beginTransaction();
            for (ProducerRecord<byte[], byte[]> output : scored.outputs()) {
                producer.send(output);
            }
            producer.sendOffsetsToTransaction(nextOffsets(batch), consumer.groupMetadata());
            producer.commitTransaction();
        } catch (RuntimeException e) {
            stalls.failed(TRANSACTION, e);
            recoverTransaction(consumer, batch, e);
            return;
        }
        stalls.done(TRANSACTION);
        scored.count(metrics);
    }

    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(List<ConsumerRecord<byte[], byte[]>> batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : batch) {
            offsets.merge(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        return offsets;
    }

    /**
     * A transaction failed (broker away, a timeout, a rebalance, fencing): its outcome may be unknown, as
     * when {@code commitTransaction} timed out, which the producer then insists on retrying and will not
     * abort. So: abort it if the producer can; otherwise replace the producer, whose {@code initTransactions}
     * under the same transactional id completes or aborts what was left open. Then the group's committed
     * offsets say what is done (outputs and offsets commit together), and every assigned partition goes
     * back to them: nothing is skipped, and nothing committed is scored again.
     */
    private void recoverTransaction(KafkaConsumer<byte[], byte[]> consumer, List<ConsumerRecord<byte[], byte[]>> batch,
                                    Exception why) {
        // One line per interval, not per try, comes from StallWatch once this lasts past the stall timeout.
        LOG.debugf("could not commit the transaction of a batch of %d (%s); recovering", batch.size(), why.toString());
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
            pending.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
            stalls.forget(TRANSACTION); // a rewound batch of a kept partition is polled again and waits anew
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
