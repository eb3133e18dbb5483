package dev.petal.common.records;

import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

/**
 * Kafka client settings from configuration: every {@code kafka.*} key is passed to the clients
 * with the prefix removed ({@code kafka.bootstrap.servers}, {@code kafka.security.protocol},
 * {@code kafka.sasl.mechanism}, {@code kafka.sasl.jaas.config}, {@code kafka.ssl.truststore.location}, ...),
 * so TLS and SASL work everywhere without code changes.
 */
public final class KafkaClientConfig {
    public static final String PREFIX = "kafka.";
    public static final String BOOTSTRAP_SERVERS = "kafka.bootstrap.servers";

    private KafkaClientConfig() {}

    public static Properties from(Map<String, String> config) {
        return from(config.keySet(), config::get);
    }

    /** {@code names}: every configuration key known (only those under kafka. are used). */
    public static Properties from(Iterable<String> names, Function<String, String> lookup) {
        Properties props = new Properties();
        for (String name : names) {
            if (name.startsWith(PREFIX) && !name.startsWith(PREFIX + "devservices")) {
                String value = lookup.apply(name);
                if (value != null && !value.isBlank()) {
                    props.put(name.substring(PREFIX.length()), value);
                }
            }
        }
        if (!props.containsKey("bootstrap.servers")) {
            throw new IllegalArgumentException(BOOTSTRAP_SERVERS + " is not set: point it at your Kafka brokers "
                    + "(environment KAFKA_BOOTSTRAP_SERVERS), or run ./petal up for the local stack");
        }
        return props;
    }
}
