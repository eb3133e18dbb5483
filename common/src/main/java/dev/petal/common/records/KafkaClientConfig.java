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

    /**
     * Every {@code kafka.*} key except the bootstrap servers (security, SASL, TLS ...), for clients
     * whose bootstrap address comes from elsewhere.
     */
    public static Map<String, String> passThrough(Iterable<String> names, Function<String, String> lookup) {
        Map<String, String> extra = new java.util.TreeMap<>();
        for (String name : ordered(names)) {
            String client = clientKey(name);
            if (client != null && !client.equals("bootstrap.servers") && !client.startsWith("devservices")) {
                String value = lookup.apply(name);
                if (value != null && !value.isBlank()) {
                    extra.put(client, value);
                }
            }
        }
        return extra;
    }

    /**
     * The client setting a configuration name stands for: {@code kafka.sasl.mechanism} and the
     * environment variable {@code KAFKA_SASL_MECHANISM} both give {@code sasl.mechanism}; null otherwise.
     */
    /** Environment-style names first, so that a dotted key (already resolved by the config system) wins. */
    private static java.util.List<String> ordered(Iterable<String> names) {
        java.util.List<String> list = new java.util.ArrayList<>();
        names.forEach(list::add);
        list.sort(java.util.Comparator.comparing((String n) -> n.startsWith(PREFIX)));
        return list;
    }

    static String clientKey(String name) {
        if (name.startsWith(PREFIX)) {
            return name.substring(PREFIX.length());
        }
        if (name.startsWith("KAFKA_") && name.length() > 6) {
            return name.substring(6).toLowerCase(java.util.Locale.ROOT).replace('_', '.');
        }
        return null;
    }

    public static Properties from(Map<String, String> config) {
        return from(config.keySet(), config::get);
    }

    /** {@code names}: every configuration key known (only those under kafka. are used). */
    public static Properties from(Iterable<String> names, Function<String, String> lookup) {
        Properties props = new Properties();
        for (String name : ordered(names)) {
            String client = clientKey(name);
            if (client != null && !client.startsWith("devservices")) {
                String value = lookup.apply(name);
                if (value != null && !value.isBlank()) {
                    props.put(client, value);
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
