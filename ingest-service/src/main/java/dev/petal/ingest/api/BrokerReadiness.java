package dev.petal.ingest.api;

import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.KafkaProbe;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready when the Kafka cluster answers: uploads can then be acknowledged. */
@Readiness
@ApplicationScoped
public class BrokerReadiness implements HealthCheck {
    private final KafkaProbe probe;

    public BrokerReadiness(KafkaClients kafka) {
        this.probe = new KafkaProbe(kafka, Duration.ofSeconds(3));
    }

    @Override
    public HealthCheckResponse call() {
        try {
            return HealthCheckResponse.named("kafka").up().withData("cluster", probe.clusterId()).build();
        } catch (Exception e) {
            return HealthCheckResponse.named("kafka").down().withData("error", String.valueOf(e.getMessage())).build();
        }
    }

    @PreDestroy
    void close() {
        probe.close();
    }
}
