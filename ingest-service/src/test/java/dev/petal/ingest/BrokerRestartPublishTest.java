package dev.petal.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Issue #8 (b), ingest's half: the broker stops and starts again (same port, same data) while the real
 * {@link ImagePublisher}, with the default settings, streams 1,000 images to {@code petal.images} through the
 * service's {@code published-images} channel.
 * The producer is idempotent with acks=all and retries until its delivery timeout (broker timeout 20 s
 * + linger + 1 s), so the restart (about 3 s down here) is ridden out: {@link ImagePublisher#flush()} does
 * not throw, and every image is in the topic exactly once (a batch retried after the restart is
 * de-duplicated by the broker's producer state, which survives the restart).
 *
 * <p>The stack is this test JVM's shared one (one JVM per test class), so restarting its broker disturbs no other class.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class BrokerRestartPublishTest {
    static final int IMAGES = 1000;

    @Inject
    Ingestion ingestion;

    @Test
    void everyImageLandsExactlyOnceAcrossABrokerRestart() throws Exception {
        LocalStack stack = LocalStack.shared();
        IngestSettings settings = ingestion.settings();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long start = System.nanoTime();
        try (ImagePublisher publisher = ingestion.publisher(settings)) {
            Thread sender = new Thread(() -> {
                Random random = new Random(8);
                try {
                    for (int i = 0; i < IMAGES; i++) {
                        byte[] image = new byte[1024];
                        random.nextBytes(image);
                        publisher.send(Topics.IMAGES, key(i), image, "sha-" + i, Map.of(Headers.SOURCE, key(i)));
                        Thread.sleep(4); // about 250 images a second: the restart lands mid-stream
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            }, "ingest-stream");
            sender.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (publisher.acknowledged() < IMAGES / 4 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            long atStop = publisher.acknowledged();
            stack.kafka().stop();
            Thread.sleep(3000);
            stack.kafka().start();
            sender.join(60_000);
            assertEquals(null, failure.get(), "no send failed");
            publisher.flush(); // throws if any record was not accepted
            assertEquals(IMAGES, publisher.acknowledged());
            System.out.printf("ingest: broker restarted after %d of %d acknowledged; all acknowledged, %.1f s in all%n",
                    atStop, IMAGES, (System.nanoTime() - start) / 1e9);
            assertTrue(atStop < IMAGES, "the restart came after the stream was done");
        }
        List<ConsumerRecord<String, byte[]>> records = TopicReader.readAll(stack.bootstrapServers(), Topics.IMAGES);
        Map<String, Long> perKey = records.stream().collect(Collectors.groupingBy(ConsumerRecord::key, TreeMap::new, Collectors.counting()));
        assertEquals(IMAGES, perKey.size(), "every image is in the topic");
        assertEquals(Map.of(), perKey.entrySet().stream().filter(e -> e.getValue() > 1)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)), "none twice");
        assertEquals(IMAGES, records.size());
    }

    private static String key(int i) {
        return String.format("restart-%04d", i);
    }
}
