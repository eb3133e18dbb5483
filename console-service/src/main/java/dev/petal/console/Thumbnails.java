package dev.petal.console;

import dev.petal.common.image.ImageDecoder;
import dev.petal.common.records.HeaderValues;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.report.Thumbnail;
import dev.petal.common.storage.BucketRefs;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * A small JPEG of an image that was scored, found by reference, never copied into a page: the {@code petal.images}
 * record at a partition and offset (what a prediction's {@code source} names), and for a claim-checked image
 * ({@code image-ref}) the object it names, only under {@code images/} of the configured bucket. Decoded with the
 * services' own limits (bytes, pixels read from the header first); at most {@value #CACHED} are kept.
 */
@ApplicationScoped
public class Thumbnails {
    static final int SIZE = 96;
    private static final int CACHED = 256;

    private final ConsoleClients clients;
    private final Map<String, byte[]> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
            return size() > CACHED;
        }
    };

    public Thumbnails(ConsoleClients clients) {
        this.clients = clients;
    }

    /** The JPEG bytes, or empty when there is no such record or its image cannot be decoded. */
    public Optional<byte[]> of(int partition, long offset) {
        String cacheKey = partition + ":" + offset;
        synchronized (cache) {
            byte[] cached = cache.get(cacheKey);
            if (cached != null) {
                return Optional.of(cached);
            }
        }
        Optional<byte[]> image = image(partition, offset).flatMap(this::thumbnail);
        image.ifPresent(bytes -> {
            synchronized (cache) {
                cache.put(cacheKey, bytes);
            }
        });
        return image;
    }

    private Optional<byte[]> image(int partition, long offset) {
        TopicPartition tp = new TopicPartition(Topics.IMAGES, partition);
        long maxBytes = clients.imageLimits().maxBytes();
        try (KafkaConsumer<byte[], byte[]> consumer = clients.kafka().reader(Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1,
                ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false, ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted"))) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, offset);
            long deadline = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(300))) {
                    if (record.offset() != offset) {
                        return Optional.empty();
                    }
                    String ref = HeaderValues.text(record, Headers.IMAGE_REF);
                    if (ref != null && (record.value() == null || record.value().length == 0)) {
                        String bucket = clients.store().bucket();
                        if (BucketRefs.problem(ref, bucket) != null || !BucketRefs.keyOf(ref, bucket).startsWith("images/")) {
                            return Optional.empty();
                        }
                        return Optional.of(clients.store().get(BucketRefs.keyOf(ref, bucket), maxBytes));
                    }
                    return record.value() == null || record.value().length > maxBytes ? Optional.empty() : Optional.of(record.value());
                }
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private Optional<byte[]> thumbnail(byte[] encoded) {
        try {
            var decoded = new ImageDecoder(clients.imageLimits()).decode(encoded);
            String uri = Thumbnail.jpegDataUri(decoded.image(), SIZE);
            return Optional.of(Base64.getDecoder().decode(uri.substring(uri.indexOf(',') + 1)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
