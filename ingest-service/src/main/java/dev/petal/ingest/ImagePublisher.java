package dev.petal.ingest;

import dev.petal.common.records.Headers;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.ObjectStoreException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Sends image records: inline when small, by claim-check when larger than the inline limit (bytes to
 * {@code images/<sha256>} in object storage, an {@code image-ref} header and an empty value).
 * Sends are asynchronous; {@link #flush()} waits for all of them and fails if any failed.
 */
public final class ImagePublisher implements AutoCloseable {
    /** Object key prefix of claim-checked image bytes. */
    public static final String CLAIM_CHECK_PREFIX = "images/";
    private static final byte[] EMPTY = new byte[0];

    private final IngestSettings settings;
    private final Producer<String, byte[]> producer;
    private final Supplier<ObjectStore> storeSupplier;
    private ObjectStore store;
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicReference<Exception> firstFailure = new AtomicReference<>();

    /** @param store opens the object store on first use: runs with only small images need none */
    public ImagePublisher(IngestSettings settings, Supplier<ObjectStore> store) {
        this.settings = settings;
        this.storeSupplier = store;
        this.producer = new KafkaProducer<>(KafkaClients.producer(settings));
    }

    /**
     * Queues one record. {@code sha256} names the claim-check object. The headers map's
     * {@code null} values are left out.
     */
    public void send(String topic, String key, byte[] bytes, String sha256, Map<String, String> headers) {
        failFast();
        RecordHeaders recordHeaders = new RecordHeaders();
        headers.forEach((name, value) -> {
            if (value != null) {
                recordHeaders.add(name, value.getBytes(StandardCharsets.UTF_8));
            }
        });
        byte[] value = bytes;
        if (bytes.length > settings.inlineMaxBytes()) {
            String objectKey = CLAIM_CHECK_PREFIX + sha256;
            ObjectStore objects = store();
            try {
                if (!objects.exists(objectKey)) { // content-addressed: the same bytes are stored once
                    objects.put(objectKey, bytes);
                }
            } catch (ObjectStoreException e) {
                throw new IngestFailedException("claim-check upload failed: " + e.getMessage(), e);
            }
            recordHeaders.add(Headers.IMAGE_REF, ("s3://" + objects.bucket() + "/" + objectKey).getBytes(StandardCharsets.UTF_8));
            value = EMPTY;
        }
        try {
            producer.send(new ProducerRecord<>(topic, null, key, value, recordHeaders), (metadata, error) -> {
                if (error != null) {
                    firstFailure.compareAndSet(null, error);
                } else {
                    acknowledged.incrementAndGet();
                }
            });
        } catch (TimeoutException e) {
            throw TopicProvisioner.unreachable(settings, e);
        } catch (KafkaException e) {
            throw new IngestFailedException("sending to " + topic + " failed: " + e.getMessage(), e);
        }
    }

    /** Records the broker has acknowledged so far. */
    public long acknowledged() {
        return acknowledged.get();
    }

    /** Waits until every queued record is acknowledged; throws if any send failed. */
    public void flush() {
        producer.flush();
        failFast();
    }

    private void failFast() {
        Exception failure = firstFailure.get();
        if (failure != null) {
            throw new IngestFailedException("Kafka at " + settings.bootstrapServers() + " did not accept a record: "
                    + failure.getMessage(), failure);
        }
    }

    private ObjectStore store() {
        if (store == null) {
            store = storeSupplier.get();
            try {
                store.ensureBucket();
            } catch (ObjectStoreException e) {
                throw new IngestFailedException("object storage unavailable for claim-check: " + e.getMessage(), e);
            }
        }
        return store;
    }

    @Override
    public void close() {
        producer.close();
        if (store != null) {
            store.close();
        }
    }
}
