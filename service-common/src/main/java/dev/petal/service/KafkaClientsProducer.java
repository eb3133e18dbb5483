package dev.petal.service;

import dev.petal.common.records.KafkaClients;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaCDIEvents;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * The services' plain Kafka clients ({@link KafkaClients}) from the same connection settings as their channels:
 * Quarkus's {@code default-kafka-broker} map, every {@code kafka.*} key (and {@code KAFKA_*} variable) with the prefix
 * removed. Each client is announced like the connector's own, so the Micrometer binder puts its metrics on
 * {@code /q/metrics} too.
 */
@ApplicationScoped
public class KafkaClientsProducer {
    @Produces
    @ApplicationScoped
    KafkaClients kafkaClients(@Identifier("default-kafka-broker") Map<String, Object> connection, KafkaCDIEvents events) {
        return KafkaClients.of(connection).onCreated(client -> {
            if (client instanceof Consumer<?, ?> consumer) {
                events.consumer().fire(consumer);
            } else if (client instanceof Producer<?, ?> producer) {
                events.producer().fire(producer);
            }
        });
    }
}
