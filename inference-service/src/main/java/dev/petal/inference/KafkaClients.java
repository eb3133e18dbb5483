package dev.petal.inference;

import dev.petal.common.records.KafkaClientConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
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
    /** Default {@code transaction.timeout.ms} (Kafka's is 60 s); see {@link #producer(String)}. */
    public static final int TRANSACTION_TIMEOUT_MS = 15_000;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    /** The {@code kafka.*} keys to pass through; null: the application's configuration. */
    private Map<String, String> kafkaConfig;

    /**
     * Clients outside CDI (tests, tools that wire the loop by hand): {@code bootstrapServers} and the
     * {@code kafka.*} keys of {@code kafkaConfig} (e.g. {@code kafka.session.timeout.ms}), nothing else.
     */
    public static KafkaClients of(String bootstrapServers, Map<String, String> kafkaConfig) {
        KafkaClients clients = new KafkaClients();
        clients.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        clients.kafkaConfig = Map.copyOf(kafkaConfig);
        return clients;
    }

    /** A transactional id for one scoring loop: unique per instance, kept for its whole life. */
    public static String transactionalId(String group) {
        // Unique per instance: since KIP-447 fencing goes by consumer group generation, not by id.
        return group + "-" + UUID.randomUUID();
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /**
     * A consumer in {@code group} that commits only when told to. A replica that dies without leaving the
     * group (kill -9, a lost node) keeps its partitions until {@code session.timeout.ms} passes (Kafka's
     * default, 45 s); {@code kafka.session.timeout.ms} shortens that, down to the broker's minimum (6 s).
     */
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

    /**
     * An idempotent producer that waits for every in-sync replica; transactional when {@code transactionalId}
     * is set. Sends are retried until {@code delivery.timeout.ms} (Kafka's default, 2 min), so a broker
     * restart delays outputs but loses none. A transaction left open by a replica that died (kill -9) blocks
     * read_committed readers of its output partitions, and the group's offset fetches, until the broker
     * aborts it: {@code transaction.timeout.ms}, here {@value #TRANSACTION_TIMEOUT_MS} ms instead of 60 s
     * (a scoring transaction spans only the send and the commit; {@code kafka.transaction.timeout.ms} overrides).
     */
    public KafkaProducer<byte[], byte[]> producer(String transactionalId) {
        Map<String, Object> config = base();
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 32 * 1024 * 1024);
        if (transactionalId != null) {
            config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
            config.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, TRANSACTION_TIMEOUT_MS);
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
        if (kafkaConfig != null) {
            KafkaClientConfig.passThrough(kafkaConfig.keySet(), kafkaConfig::get).forEach(config::putIfAbsent);
        } else {
            var all = org.eclipse.microprofile.config.ConfigProvider.getConfig();
            KafkaClientConfig.passThrough(all.getPropertyNames(),
                    key -> all.getOptionalValue(key, String.class).orElse(null)).forEach(config::putIfAbsent);
        }
        return config;
    }
}
