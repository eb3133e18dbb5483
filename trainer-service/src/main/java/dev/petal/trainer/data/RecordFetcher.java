package dev.petal.trainer.data;

import dev.petal.common.image.RejectedImageException;
import dev.petal.common.records.UntrustedText;
import dev.petal.common.storage.BucketRefs;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.ObjectTooLargeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads the encoded bytes of samples that are not cached: from Kafka by (partition, offset), or
 * from object storage for claim-checked images. Within a batch the offsets are read in order, so
 * neighbours come back in one fetch. Not thread-safe: one loader thread owns it.
 */
public final class RecordFetcher {
    private static final Duration POLL = Duration.ofMillis(500);
    private static final int MAX_EMPTY_POLLS = 60;

    private final Consumer<byte[], byte[]> consumer;
    private final String topic;
    private final ObjectStore objects;
    private final long maxImageBytes;

    /** @param maxImageBytes the largest claim-checked image read ({@code petal.image.max-bytes}); larger ones are never downloaded */
    public RecordFetcher(Consumer<byte[], byte[]> consumer, String topic, ObjectStore objects, long maxImageBytes) {
        this.consumer = consumer;
        this.topic = topic;
        this.objects = objects;
        this.maxImageBytes = maxImageBytes;
    }

    /** Bytes for each sample (a {@link FetchFailure} instead of bytes when one cannot be read). */
    public Map<Sample, Object> fetch(List<Sample> samples) {
        Map<Sample, Object> out = new HashMap<>();
        List<Sample> fromKafka = new ArrayList<>();
        for (Sample s : samples) {
            if (s.imageRef() != null) {
                out.put(s, fromObjectStore(s.imageRef()));
            } else {
                fromKafka.add(s);
            }
        }
        fromKafka.sort(Comparator.comparingInt(Sample::partition).thenComparingLong(Sample::offset));
        int i = 0;
        while (i < fromKafka.size()) {
            Sample wanted = fromKafka.get(i);
            TopicPartition tp = new TopicPartition(topic, wanted.partition());
            consumer.assign(List.of(tp));
            consumer.seek(tp, wanted.offset());
            int empty = 0;
            while (i < fromKafka.size() && fromKafka.get(i).partition() == wanted.partition() && !out.containsKey(fromKafka.get(i))) {
                List<ConsumerRecord<byte[], byte[]>> records = consumer.poll(POLL).records(tp);
                if (records.isEmpty()) {
                    if (++empty > MAX_EMPTY_POLLS) {
                        throw new IllegalStateException("no record at " + tp + " offset " + fromKafka.get(i).offset()
                                + " after " + MAX_EMPTY_POLLS + " polls: was the topic truncated?");
                    }
                    continue;
                }
                empty = 0;
                long last = records.get(records.size() - 1).offset();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    while (i < fromKafka.size() && fromKafka.get(i).partition() == wanted.partition()
                            && fromKafka.get(i).offset() < r.offset()) {
                        // Compacted or deleted under us: report instead of hanging.
                        out.put(fromKafka.get(i), new FetchFailure("missing", "offset " + fromKafka.get(i).offset() + " is gone"));
                        i++;
                    }
                    if (i < fromKafka.size() && fromKafka.get(i).partition() == wanted.partition()
                            && fromKafka.get(i).offset() == r.offset()) {
                        out.put(fromKafka.get(i), r.value());
                        i++;
                    }
                }
                // A far-away next offset: seek rather than read everything in between.
                if (i < fromKafka.size() && fromKafka.get(i).partition() == wanted.partition()
                        && fromKafka.get(i).offset() > last + 1) {
                    consumer.seek(tp, fromKafka.get(i).offset());
                }
            }
        }
        return out;
    }

    /** A claim-checked image: only from the configured bucket, and only within the image limit. */
    Object fromObjectStore(String ref) {
        String problem = BucketRefs.problem(ref, objects.bucket());
        if (problem != null) {
            return new FetchFailure("bad-image-ref", "image-ref " + UntrustedText.forLog(ref) + " " + problem);
        }
        try {
            // Bounded: an object over the limit is refused from its length, never downloaded.
            return objects.get(BucketRefs.keyOf(ref, objects.bucket()), maxImageBytes);
        } catch (ObjectTooLargeException e) {
            return new FetchFailure(RejectedImageException.Kind.TOO_LARGE.code(),
                    "the claim-checked image is larger than " + maxImageBytes + " bytes (petal.image.max-bytes)");
        } catch (RuntimeException e) {
            return new FetchFailure("image-ref-unreadable", UntrustedText.forLog(e.getMessage()));
        }
    }

    /** Why a sample's bytes could not be read. */
    public record FetchFailure(String errorClass, String reason) {}
}
