package dev.petal.ingest;

import dev.petal.common.records.Headers;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.ObjectStoreException;
import io.smallrye.reactive.messaging.MutinyEmitter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Sends the image records of one run through the {@code published-images} channel: inline when small, by claim-check
 * when larger than the inline limit (bytes to {@code images/<sha256>} in object storage, an {@code image-ref} header
 * and an empty value). The channel's producer is idempotent and waits for every in-sync replica (acks=all), and
 * retries within its delivery timeout, so a broker restart delays records but neither loses nor repeats one.
 *
 * <p>Sends are asynchronous: each is acknowledged once the broker has it. At most {@value #MAX_BYTES_IN_FLIGHT} bytes
 * (the producer's {@code buffer.memory}) and the channel's {@code max-inflight-messages} records are in flight; a send
 * waits for room up to the broker timeout. The record bound keeps the channel's emitter within what its connector has
 * requested ({@code max-inflight-messages}) plus its buffer: beyond that the emitter fails the send
 * (SRMSG00034), which small images at full speed otherwise reach.
 * {@link #flush()} waits for every acknowledgement and fails if any send failed.
 */
public final class ImagePublisher implements AutoCloseable {
    /** Object key prefix of claim-checked image bytes. */
    public static final String CLAIM_CHECK_PREFIX = "images/";
    static final int MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024;
    private static final byte[] EMPTY = new byte[0];

    private final IngestSettings settings;
    private final String brokers;
    private final MutinyEmitter<ProducerRecord<String, byte[]>> channel;
    private final Supplier<ObjectStore> storeSupplier;
    private ObjectStore store;
    private final Semaphore room = new Semaphore(MAX_BYTES_IN_FLIGHT);
    private final Semaphore records;
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicReference<Throwable> firstFailure = new AtomicReference<>();

    /**
     * @param brokers            the Kafka address, for messages
     * @param maxRecordsInFlight the channel's {@code max-inflight-messages}: what its connector requests up front
     * @param store              opens the object store on first use: runs with only small images need none
     */
    public ImagePublisher(IngestSettings settings, String brokers, MutinyEmitter<ProducerRecord<String, byte[]>> channel,
                          int maxRecordsInFlight, Supplier<ObjectStore> store) {
        this.settings = settings;
        this.records = new Semaphore(maxRecordsInFlight);
        this.brokers = brokers;
        this.channel = channel;
        this.storeSupplier = store;
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
        int size = Math.min(MAX_BYTES_IN_FLIGHT, value.length + 1024);
        awaitRoom(size);
        channel.sendMessage(Message.of(new ProducerRecord<>(topic, null, key, value, recordHeaders))).subscribe().with(
                ok -> {
                    acknowledged.incrementAndGet();
                    release(size);
                },
                failure -> {
                    firstFailure.compareAndSet(null, failure);
                    release(size);
                });
    }

    /** Records the broker has acknowledged so far. */
    public long acknowledged() {
        return acknowledged.get();
    }

    /** Waits until every queued record is acknowledged; throws if any send failed. */
    public void flush() {
        try {
            room.acquire(MAX_BYTES_IN_FLIGHT); // all in-flight bytes returned: every send has its answer
            room.release(MAX_BYTES_IN_FLIGHT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IngestFailedException("interrupted while waiting for Kafka's acknowledgements", e);
        }
        failFast();
    }

    private void awaitRoom(int size) {
        try {
            long timeoutMillis = settings.brokerTimeout().toMillis();
            if (!records.tryAcquire(timeoutMillis, TimeUnit.MILLISECONDS)) {
                failFast();
                throw TopicProvisioner.unreachable(settings, brokers, null);
            }
            if (!room.tryAcquire(size, timeoutMillis, TimeUnit.MILLISECONDS)) {
                records.release();
                failFast();
                throw TopicProvisioner.unreachable(settings, brokers, null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IngestFailedException("interrupted while waiting for Kafka", e);
        }
    }

    private void release(int size) {
        room.release(size);
        records.release();
    }

    private void failFast() {
        Throwable failure = firstFailure.get();
        if (failure != null) {
            throw new IngestFailedException("Kafka at " + brokers + " did not accept a record: " + failure.getMessage(), failure);
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
        if (store != null) {
            store.close();
        }
    }
}
