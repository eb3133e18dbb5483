package dev.petal.inference.health;

import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.KafkaProbe;
import dev.petal.inference.InferenceService;
import dev.petal.inference.model.ModelHolder;
import dev.petal.inference.scoring.StallWatch;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready when a model is loaded and, while serving, the Kafka cluster answers within 3 s (the connector's own checks
 * look at connections, which notice a broker gone only later) and scoring is not stalled: no output or offset has
 * waited for the broker longer than {@code petal.inference.stall-timeout} ({@link StallWatch}).
 */
@Readiness
@ApplicationScoped
public class ServingReadiness implements HealthCheck {
    private final ModelHolder holder;
    private final InferenceService service;
    private final KafkaProbe kafka;
    private final StallWatch stalls;

    public ServingReadiness(ModelHolder holder, InferenceService service, KafkaClients clients, StallWatch stalls) {
        this.holder = holder;
        this.service = service;
        this.stalls = stalls;
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
            var stall = stalls.stalled();
            stall.ifPresent(age -> response.withData("stalled", stalls.describe().orElse(age.toSeconds() + " s")));
            up = up && reachable && stall.isEmpty();
        }
        return response.status(up).build();
    }

    @PreDestroy
    void close() {
        kafka.close();
    }
}
