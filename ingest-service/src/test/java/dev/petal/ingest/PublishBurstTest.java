package dev.petal.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Small images sent as fast as the caller can: many more records than the channel's emitter can hold (its
 * connector's 1,024 requested plus a buffer of 128) would be in flight under the byte bound alone, and the
 * emitter then fails a send (SRMSG00034). {@link ImagePublisher} waits for room instead, so every record lands.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class PublishBurstTest {
    static final int IMAGES = 5000;

    @Inject
    Ingestion ingestion;

    @Test
    void aBurstOfSmallImagesWaitsForTheChannelInsteadOfFailing() {
        try (ImagePublisher publisher = ingestion.publisher(ingestion.settings())) {
            byte[] image = new byte[64];
            for (int i = 0; i < IMAGES; i++) {
                image[0] = (byte) i;
                publisher.send(Topics.IMAGES, key(i), image, "sha-" + i, Map.of(Headers.SOURCE, key(i)));
            }
            publisher.flush(); // throws if the channel refused any record
            assertEquals(IMAGES, publisher.acknowledged());
        }
        Set<String> keys = TopicReader.readAll(LocalStack.shared().bootstrapServers(), Topics.IMAGES).stream()
                .map(ConsumerRecord::key).filter(k -> k.startsWith("burst-")).collect(Collectors.toSet());
        assertEquals(IMAGES, keys.size(), "every image is in the topic");
    }

    private static String key(int i) {
        return String.format("burst-%05d", i);
    }
}
