package dev.petal.console;

import dev.petal.common.image.ImageLimits;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * The console's connections, from the same keys as every service: {@code kafka.*} (and {@code KAFKA_*} variables) for
 * its Kafka clients, {@code petal.s3.*} for object storage, {@code petal.image.*} for the thumbnails' decoding limits.
 */
@ApplicationScoped
public class ConsoleClients {
    private final Config config = ConfigProvider.getConfig();
    private volatile KafkaClients kafka;
    private volatile ObjectStore store;

    public KafkaClients kafka() {
        if (kafka == null) {
            synchronized (this) {
                if (kafka == null) {
                    kafka = KafkaClients.of(kafkaConfig());
                }
            }
        }
        return kafka;
    }

    public ObjectStore store() {
        if (store == null) {
            synchronized (this) {
                if (store == null) {
                    store = new ObjectStore(S3Settings.fromConfig(this::value));
                }
            }
        }
        return store;
    }

    public ImageLimits imageLimits() {
        return ImageLimits.from(this::value);
    }

    /** The {@code kafka.*} settings with the prefix removed, from properties and from {@code KAFKA_*} variables. */
    Map<String, String> kafkaConfig() {
        Map<String, String> client = new TreeMap<>();
        for (String name : config.getPropertyNames()) {
            if (name.startsWith("kafka.")) {
                value(name, client);
            }
        }
        for (String variable : System.getenv().keySet()) {
            if (variable.startsWith("KAFKA_")) {
                value(variable.toLowerCase(Locale.ROOT).replace('_', '.'), client);
            }
        }
        return client;
    }

    private void value(String name, Map<String, String> into) {
        String v = value(name);
        if (v != null && !v.isBlank()) {
            into.put(name.substring("kafka.".length()), v);
        }
    }

    private String value(String name) {
        return config.getOptionalValue(name, String.class).orElse(null);
    }

    @PreDestroy
    void close() {
        if (store != null) {
            store.close();
        }
    }
}
