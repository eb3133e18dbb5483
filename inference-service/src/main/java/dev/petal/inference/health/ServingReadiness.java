package dev.petal.inference.health;

import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.KafkaProbe;
import dev.petal.inference.InferenceService;
import dev.petal.inference.model.ModelHolder;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready when a model is loaded and, while serving, the Kafka cluster answers within 3 s (the connector's own checks
 * look at connections, which notice a broker gone only later).
 */
@Readiness
@ApplicationScoped
public class ServingReadiness implements HealthCheck {
    private final ModelHolder holder;
    private final InferenceService service;
    private final KafkaProbe kafka;

    public ServingReadiness(ModelHolder holder, InferenceService service, KafkaClients clients) {
        this.holder = holder;
        this.service = service;
        this.kafka = new KafkaProbe(clients, Duration.ofSeconds(3));
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("petal-inference");
        boolean model = holder.isLoaded();
        response.withData("model", holder.version().orElse("none"));
        boolean up = model;
        if (service.isStarted()) {
            boolean reachable = kafka.reachable();
            response.withData("kafka", reachable ? "reachable" : "unreachable");
            response.withData("scoring", service.isScoring() ? "started" : "waiting for a model");
            up = up && reachable;
        }
        return response.status(up).build();
    }

    @PreDestroy
    void close() {
        kafka.close();
    }
}
