package dev.petal.common.records;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The one place Petal builds plain Kafka clients: the ones that are not a messaging channel (the trainer's
 * reads of {@code petal.train} by offset, topic creation, readiness probes, the command-line tools).
 *
 * <p>Every client starts from the same connection settings, the ones the services' channels get too: the
 * {@code kafka.*} keys with the prefix removed ({@code bootstrap.servers}, {@code security.protocol},
 * {@code sasl.*}, {@code ssl.*}, ...; Quarkus hands them over as its {@code default-kafka-broker} map). A role
 * adds what it needs on top, and explicit {@code overrides} (a tool's timeouts) come last.
 */
public final class KafkaClients {
    private final Map<String, Object> connection;
    private final Consumer<Object> onCreated;

    private KafkaClients(Map<String, Object> connection, Consumer<Object> onCreated) {
        this.connection = Map.copyOf(connection);
        this.onCreated = onCreated;
    }

    /**
     * Clients for the connection settings in {@code clientConfig} (client keys: {@code bootstrap.servers},
     * {@code security.protocol}, ...). Keys that are no client setting in Quarkus's map ({@code devservices.*},
     * the application's default {@code group.id}) are left out.
     */
    public static KafkaClients of(Map<String, ?> clientConfig) {
        Map<String, Object> connection = new HashMap<>();
        clientConfig.forEach((key, value) -> {
            if (value != null && !value.toString().isBlank() && !key.startsWith("devservices") && !key.startsWith("ui.")
                    && !key.equals(ConsumerConfig.GROUP_ID_CONFIG)) {
                connection.put(key, value);
            }
        });
        if (!connection.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
            throw new IllegalArgumentException("kafka.bootstrap.servers is not set: point it at your Kafka brokers "
                    + "(environment KAFKA_BOOTSTRAP_SERVERS), or run ./petal up for the local stack");
        }
        return new KafkaClients(connection, client -> { });
    }

    /** Clients for the {@code kafka.*} entries of a configuration map (the local stack's {@code stack.properties}). */
    public static KafkaClients fromConfig(Map<String, String> config) {
        Map<String, Object> connection = new HashMap<>();
        config.forEach((key, value) -> {
            if (key.startsWith("kafka.")) {
                connection.put(key.substring("kafka.".length()), value);
            }
        });
        return of(connection);
    }

    /** The same clients, each also handed to {@code hook} once created (the services bind its metrics). */
    public KafkaClients onCreated(Consumer<Object> hook) {
        return new KafkaClients(connection, Objects.requireNonNull(hook));
    }

    public String bootstrapServers() {
        return connection.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG).toString();
    }

    /** The connection settings every client starts from. */
    public Map<String, Object> connection() {
        return connection;
    }

    /** A consumer outside any group, reading committed records only; the caller assigns partitions and seeks. */
    public KafkaConsumer<byte[], byte[]> reader() {
        return reader(Map.of());
    }

    public KafkaConsumer<byte[], byte[]> reader(Map<String, Object> overrides) {
        return consumer(overrides, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** A consumer outside any group that never commits, with the given deserializers. */
    public <K, V> KafkaConsumer<K, V> consumer(Map<String, Object> overrides, Deserializer<K> keys, Deserializer<V> values) {
        Map<String, Object> config = base("reader");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.putAll(overrides);
        return created(new KafkaConsumer<>(config, keys, values));
    }

    /**
     * An idempotent producer that waits for every in-sync replica: a send is retried until
     * {@code delivery.timeout.ms}, so a broker restart delays records but loses or repeats none.
     */
    public KafkaProducer<byte[], byte[]> producer() {
        return producer(Map.of(), new ByteArraySerializer(), new ByteArraySerializer());
    }

    public <K, V> KafkaProducer<K, V> producer(Map<String, Object> overrides, Serializer<K> keys, Serializer<V> values) {
        Map<String, Object> config = base("producer");
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.putAll(overrides);
        return created(new KafkaProducer<>(config, keys, values));
    }

    /** An admin client whose calls give up after {@code timeout}. */
    public Admin admin(Duration timeout) {
        Map<String, Object> config = base("admin");
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        return Admin.create(config);
    }

    private Map<String, Object> base(String role) {
        Map<String, Object> config = new HashMap<>(connection);
        config.putIfAbsent(CommonClientConfigs.CLIENT_ID_CONFIG, "petal-" + role + "-" + UUID.randomUUID().toString().substring(0, 8));
        return config;
    }

    private <T> T created(T client) {
        onCreated.accept(client);
        return client;
    }
}
