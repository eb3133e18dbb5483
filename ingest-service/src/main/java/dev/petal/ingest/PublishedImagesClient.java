package dev.petal.ingest;

import io.smallrye.reactive.messaging.ClientCustomizer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.eclipse.microprofile.config.Config;

/**
 * The {@code published-images} producer's limits, derived from the {@code petal.ingest.*} settings when the connector
 * creates it: an unreachable broker fails a run within {@code broker-timeout} seconds (exit code 1), retries included,
 * and an inline image of {@code inline-max-bytes} with its headers fits one request.
 */
@ApplicationScoped
public class PublishedImagesClient implements ClientCustomizer<Map<String, Object>> {
    static final String CHANNEL = "published-images";

    private final IngestConfig config;

    public PublishedImagesClient(IngestConfig config) {
        this.config = config;
    }

    @Override
    public Map<String, Object> customize(String channel, Config channelConfig, Map<String, Object> client) {
        if (CHANNEL.equals(channel)) {
            IngestSettings s = config.settings();
            int timeout = (int) s.brokerTimeout().toMillis();
            // As text: the connector reads its client settings as strings.
            client.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(timeout));
            client.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Integer.toString(timeout));
            client.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.toString(timeout + s.lingerMs() + 1000));
            client.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Math.max(1024 * 1024, s.inlineMaxBytes() + 64 * 1024)));
        }
        return client;
    }
}
