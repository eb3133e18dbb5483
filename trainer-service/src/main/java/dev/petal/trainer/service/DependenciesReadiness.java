package dev.petal.trainer.service;

import dev.petal.common.records.KafkaProbe;
import dev.petal.common.storage.ObjectStore;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready when Kafka and object storage both answer: a run could start and publish. */
@Readiness
@ApplicationScoped
public class DependenciesReadiness implements HealthCheck {
    private final TrainerConfig config;
    private KafkaProbe kafka;
    private ObjectStore store;

    public DependenciesReadiness(TrainerConfig config) {
        this.config = config;
    }

    @Override
    public synchronized HealthCheckResponse call() {
        var response = HealthCheckResponse.named("kafka-and-s3");
        try {
            if (kafka == null) {
                kafka = new KafkaProbe(config.kafka(), Duration.ofSeconds(3));
            }
            response.withData("kafka", kafka.clusterId());
        } catch (Exception e) {
            return response.down().withData("kafka", "unreachable: " + e.getMessage()).build();
        }
        try {
            if (store == null) {
                store = new ObjectStore(config.s3());
            }
            store.exists("models/.probe");
            response.withData("s3", store.bucket());
        } catch (RuntimeException e) {
            return response.down().withData("s3", "unreachable: " + e.getMessage()).build();
        }
        return response.up().build();
    }

    @PreDestroy
    synchronized void close() {
        if (kafka != null) {
            kafka.close();
        }
        if (store != null) {
            store.close();
        }
    }
}
