package dev.petal.trainer.data;

import dev.petal.common.records.DeadLetter;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import java.util.HashMap;
import java.util.Map;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * Sends the dataset records no run can train on to petal.dlq, once each. Every run re-reads the
 * whole topic, so the offset up to which bad records were already sent is kept as the committed
 * offset of a consumer group ({@value #GROUP}): a record goes to the DLQ by the first run that scans
 * past it, and later runs skip it. The mark moves only after the DLQ writes are acknowledged, so a
 * crash in between sends a record twice, never zero times.
 */
public final class DeadLetters {
    public static final String GROUP = "petal-trainer-dead-letters";
    private static final Logger LOG = Logger.getLogger(DeadLetters.class);

    private final KafkaClients kafka;
    private final Producer<byte[], byte[]> producer;

    /** Sends with {@code producer} (the run's own, idempotent, acks=all). */
    public DeadLetters(KafkaClients kafka, Producer<byte[], byte[]> producer) {
        this.kafka = kafka;
        this.producer = producer;
    }

    /** Dead-letters the bad records of {@code index} not sent before; returns how many were sent now. */
    public int send(DatasetIndex index) {
        try (Admin admin = kafka.admin(Duration.ofSeconds(30))) {
            Map<TopicPartition, OffsetAndMetadata> marks = admin.listConsumerGroupOffsets(GROUP)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            int sent = 0;
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (BadRecord bad : index.bad()) {
                OffsetAndMetadata mark = marks.get(new TopicPartition(index.topic(), bad.partition()));
                if (mark != null && bad.offset() < mark.offset()) {
                    continue;
                }
                acks.add(producer.send(DeadLetter.of(Topics.DLQ, index.topic(), bad.partition(), bad.offset(), bad.key(),
                        bad.value(), bad.headers(), bad.errorClass(), bad.reason())));
                sent++;
            }
            producer.flush();
            for (Future<RecordMetadata> ack : acks) {
                ack.get(); // the mark moves only past dead letters the broker took
            }
            Map<TopicPartition, OffsetAndMetadata> advanced = new HashMap<>();
            index.offsets().forEach((partition, range) -> {
                TopicPartition tp = new TopicPartition(index.topic(), partition);
                OffsetAndMetadata mark = marks.get(tp);
                if (mark == null || mark.offset() < range.get(1)) {
                    advanced.put(tp, new OffsetAndMetadata(range.get(1)));
                }
            });
            if (!advanced.isEmpty()) {
                admin.alterConsumerGroupOffsets(GROUP, advanced).all().get(30, TimeUnit.SECONDS);
            }
            if (sent > 0) {
                LOG.infof("%d records of %s that cannot be trained on sent to %s %s", sent, index.topic(), Topics.DLQ, index.badCounts());
            }
            return sent;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while dead-lettering bad dataset records", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not dead-letter the bad dataset records: " + e.getMessage(), e);
        }
    }
}
