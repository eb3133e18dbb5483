package dev.petal.trainer.data;

import dev.petal.common.records.DeadLetter;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * Sends the dataset records no run can train on to petal.dlq, once each, while the dataset is scanned: each bad
 * record is handed over as it is found ({@link #offer}) and kept no longer than the producer's buffer holds it, so
 * a topic full of bad records costs no memory. Every run re-reads the whole topic, so the offset up to which bad
 * records were already sent is kept as the committed offset of a consumer group ({@value #GROUP}): a record goes to
 * the DLQ by the first run that scans past it, and later runs skip it. The mark moves only after the DLQ writes are
 * acknowledged ({@link #finish}), so a crash in between sends a record twice, never zero times.
 */
public final class DeadLetters implements AutoCloseable {
    public static final String GROUP = "petal-trainer-dead-letters";
    private static final Logger LOG = Logger.getLogger(DeadLetters.class);

    private final Admin admin;
    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final Map<TopicPartition, OffsetAndMetadata> marks;
    private final AtomicReference<Exception> failedWrite = new AtomicReference<>();
    private int sent;

    private DeadLetters(Admin admin, Producer<byte[], byte[]> producer, String topic, Map<TopicPartition, OffsetAndMetadata> marks) {
        this.admin = admin;
        this.producer = producer;
        this.topic = topic;
        this.marks = marks;
    }

    /**
     * Reads how far earlier runs dead-lettered {@code topic}, ready to send its bad records with {@code producer}
     * (the run's own, idempotent, acks=all; not closed here).
     */
    public static DeadLetters open(KafkaClients kafka, Producer<byte[], byte[]> producer, String topic) {
        Admin admin = kafka.admin(Duration.ofSeconds(30));
        try {
            Map<TopicPartition, OffsetAndMetadata> marks = admin.listConsumerGroupOffsets(GROUP)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            return new DeadLetters(admin, producer, topic,
                    new HashMap<>(marks));
        } catch (InterruptedException e) {
            admin.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading how far bad dataset records were dead-lettered", e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            admin.close();
            throw new IllegalStateException("could not read how far bad dataset records were dead-lettered: " + e.getMessage(), e);
        }
    }

    /** Sends {@code bad} to petal.dlq unless an earlier run did. */
    public void offer(BadRecord bad) {
        OffsetAndMetadata mark = marks.get(new TopicPartition(topic, bad.partition()));
        if (mark != null && bad.offset() < mark.offset()) {
            return;
        }
        producer.send(DeadLetter.of(Topics.DLQ, topic, bad.partition(), bad.offset(), bad.key(), bad.value(), bad.headers(),
                bad.errorClass(), bad.reason()), (metadata, error) -> {
                    if (error != null) {
                        failedWrite.compareAndSet(null, error);
                    }
                });
        sent++;
    }

    /**
     * Waits until every record offered was written, then marks {@code offsets} (partition to [first, end) as
     * scanned) as dead-lettered; returns how many records this run sent.
     *
     * @param counts the bad records per error class, for the log line
     */
    public int finish(Map<Integer, List<Long>> offsets, Map<String, Integer> counts) {
        producer.flush();
        if (failedWrite.get() != null) {
            // The mark moves only past dead letters the broker took.
            throw new IllegalStateException("could not dead-letter the bad dataset records: " + failedWrite.get().getMessage(),
                    failedWrite.get());
        }
        Map<TopicPartition, OffsetAndMetadata> advanced = new HashMap<>();
        offsets.forEach((partition, range) -> {
            TopicPartition tp = new TopicPartition(topic, partition);
            OffsetAndMetadata mark = marks.get(tp);
            if (mark == null || mark.offset() < range.get(1)) {
                advanced.put(tp, new OffsetAndMetadata(range.get(1)));
            }
        });
        try {
            if (!advanced.isEmpty()) {
                admin.alterConsumerGroupOffsets(GROUP, advanced).all().get(30, TimeUnit.SECONDS);
                marks.putAll(advanced);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while dead-lettering bad dataset records", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not dead-letter the bad dataset records: " + e.getMessage(), e);
        }
        if (sent > 0) {
            LOG.infof("%d records of %s that cannot be trained on sent to %s %s", sent, topic, Topics.DLQ, counts);
        }
        return sent;
    }

    @Override
    public void close() {
        admin.close();
    }
}
