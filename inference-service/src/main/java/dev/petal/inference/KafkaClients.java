package dev.petal.inference;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Builds the service's Kafka clients from {@code kafka.bootstrap.servers}; byte keys and values everywhere. */
@ApplicationScoped
public class KafkaClients {
    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** A consumer in {@code group} that commits only when told to. */
    public KafkaConsumer<byte[], byte[]> groupConsumer(String group, int maxPollRecords) {
        Map<String, Object> config = base();
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** A consumer outside any group: the caller assigns partitions and seeks. */
    public KafkaConsumer<byte[], byte[]> readerConsumer() {
        Map<String, Object> config = base();
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** An idempotent producer that waits for every in-sync replica; transactional when {@code transactionalPrefix} is set. */
    public KafkaProducer<byte[], byte[]> producer(String transactionalPrefix) {
        Map<String, Object> config = base();
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 32 * 1024 * 1024);
        if (transactionalPrefix != null) {
            // Unique per instance: since KIP-447 fencing goes by consumer group generation, not by id.
            config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalPrefix + "-" + UUID.randomUUID());
        }
        return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    }

    public Admin admin() {
        Map<String, Object> config = base();
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
        return Admin.create(config);
    }

    private Map<String, Object> base() {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "petal-inference-" + UUID.randomUUID().toString().substring(0, 8));
        // TLS and SASL settings (kafka.security.protocol, kafka.sasl.*, kafka.ssl.*) from configuration.
        var all = org.eclipse.microprofile.config.ConfigProvider.getConfig();
        dev.petal.common.records.KafkaClientConfig.passThrough(all.getPropertyNames(),
                key -> all.getOptionalValue(key, String.class).orElse(null)).forEach(config::putIfAbsent);
        return config;
    }
}
