package dev.petal.inference;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code count} small PNG images keyed {@code <prefix>-0000}, {@code <prefix>-0001}, ... sent to a topic
 * on a thread of their own at about {@code perSecond}, as a stream, by a producer configured exactly as
 * ingest-service's {@code published-images} channel with the default settings (idempotent, acks=all, 20 s broker
 * timeout). {@link #finish} waits for the last acknowledgement and fails if any send
 * failed.
 */
final class ImageStream implements AutoCloseable {
    private static final List<byte[]> IMAGES = new ArrayList<>();

    static {
        for (int i = 0; i < 32; i++) {
            IMAGES.add(TestModels.png(1000 + i));
        }
    }

    private final KafkaProducer<String, byte[]> producer;
    private final Thread thread;
    private final AtomicInteger acked = new AtomicInteger();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final int count;

    ImageStream(String bootstrapServers, String topic, String prefix, int count, int perSecond) {
        this(bootstrapServers, Map.of(), topic, prefix, count, perSecond);
    }

    /** As above, with more producer settings ({@code login}: a secure stack's security protocol and SASL login). */
    ImageStream(String bootstrapServers, Map<String, Object> login, String topic, String prefix, int count, int perSecond) {
        this.count = count;
        Map<String, Object> config = ingestProducerConfig(bootstrapServers);
        config.putAll(login);
        this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
        this.thread = new Thread(() -> {
            long start = System.nanoTime();
            for (int i = 0; i < count && failure.get() == null; i++) {
                long due = start + (long) (i * 1e9 / perSecond);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    try {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                try {
                    producer.send(new ProducerRecord<>(topic, key(prefix, i), IMAGES.get(i % IMAGES.size())), (md, error) -> {
                        if (error != null) {
                            failure.compareAndSet(null, error);
                        } else {
                            acked.incrementAndGet();
                        }
                    });
                    queued.incrementAndGet();
                } catch (RuntimeException e) {
                    failure.compareAndSet(null, e);
                }
            }
        }, "image-stream-" + prefix);
        thread.setDaemon(true);
        thread.start();
    }

    static String key(String prefix, int i) {
        return String.format("%s-%04d", prefix, i);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * ingest-service's {@code published-images} producer with the default {@code petal.ingest.*} settings, key for key
     * (its {@code PublishedImagesClient} and channel settings, in a module this one does not depend on;
     * {@code BrokerRestartPublishTest} in ingest-service runs the real {@code ImagePublisher} through a broker restart).
     */
    static Map<String, Object> ingestProducerConfig(String bootstrapServers) {
        int timeout = 20_000; // petal.ingest.broker-timeout=20
        int lingerMs = 10;
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeout);
        c.put(ProducerConfig.CLIENT_ID_CONFIG, "petal-ingest");
        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        c.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        c.put(ProducerConfig.BATCH_SIZE_CONFIG, 1024 * 1024);
        c.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
        c.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 900 * 1024 + 64 * 1024);
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout);
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeout + lingerMs + 1000);
        return c;
    }

    int acknowledged() {
        return acked.get();
    }

    /** Waits until every record was sent and acknowledged; throws the first failure. */
    void finish(Duration timeout) throws Exception {
        thread.join(timeout.toMillis());
        if (thread.isAlive()) {
            throw new AssertionError("the stream did not send its " + count + " images within " + timeout);
        }
        producer.flush();
        if (failure.get() != null) {
            throw new AssertionError("a send failed after " + acked.get() + " acknowledgements", failure.get());
        }
        if (acked.get() != count) {
            throw new AssertionError(acked.get() + " of " + count + " acknowledged");
        }
    }

    @Override
    public void close() {
        thread.interrupt();
        producer.close(Duration.ofSeconds(5));
    }
}
