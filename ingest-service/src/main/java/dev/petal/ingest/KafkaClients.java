package dev.petal.ingest;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Client configurations for ingestion; every timeout is bounded so an unreachable broker fails fast. */
final class KafkaClients {
    private KafkaClients() {}

    static Map<String, Object> admin(IngestSettings s) {
        Map<String, Object> c = common(s);
        c.put(AdminClientConfig.CLIENT_ID_CONFIG, "petal-ingest-admin");
        return c;
    }

    /** Idempotent, acks=all, large batches: JPEG bytes stream to the broker in few requests. */
    static Map<String, Object> producer(IngestSettings s) {
        Map<String, Object> c = common(s);
        c.put(ProducerConfig.CLIENT_ID_CONFIG, "petal-ingest");
        c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, s.compression());
        c.put(ProducerConfig.LINGER_MS_CONFIG, s.lingerMs());
        c.put(ProducerConfig.BATCH_SIZE_CONFIG, s.batchBytes());
        c.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
        // An inline image of inlineMaxBytes plus its headers must fit one request.
        c.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Math.max(1024 * 1024, s.inlineMaxBytes() + 64 * 1024));
        int timeout = (int) s.brokerTimeout().toMillis();
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout);
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeout + s.lingerMs() + 1000);
        return c;
    }

    /** Reads keys and headers only: values are skipped without copying them. */
    static Map<String, Object> indexConsumer(IngestSettings s) {
        Map<String, Object> c = common(s);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "petal-ingest-index");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, SkippingDeserializer.class.getName());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
        c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 32 * 1024 * 1024);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return c;
    }

    private static Map<String, Object> common(IngestSettings s) {
        Map<String, Object> c = new HashMap<>();
        int timeout = (int) s.brokerTimeout().toMillis();
        c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
        c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeout);
        c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeout);
        // TLS and SASL settings (kafka.security.protocol, kafka.sasl.*, kafka.ssl.*) from configuration.
        var config = org.eclipse.microprofile.config.ConfigProvider.getConfig();
        dev.petal.common.records.KafkaClientConfig.passThrough(config.getPropertyNames(),
                key -> config.getOptionalValue(key, String.class).orElse(null)).forEach(c::putIfAbsent);
        return c;
    }
}
