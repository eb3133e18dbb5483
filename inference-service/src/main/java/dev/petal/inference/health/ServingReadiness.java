package dev.petal.inference.health;

import dev.petal.inference.InferenceService;
import dev.petal.inference.KafkaClients;
import dev.petal.inference.model.ModelHolder;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Ready when a model is loaded and, while serving, the Kafka cluster answers. */
@Readiness
@ApplicationScoped
public class ServingReadiness implements HealthCheck {
    private final ModelHolder holder;
    private final InferenceService service;
    private final KafkaClients kafka;
    private Admin admin;

    public ServingReadiness(ModelHolder holder, InferenceService service, KafkaClients kafka) {
        this.holder = holder;
        this.service = service;
        this.kafka = kafka;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("petal-inference");
        boolean model = holder.isLoaded();
        response.withData("model", holder.version().orElse("none"));
        boolean up = model;
        if (service.isStarted()) {
            boolean reachable = kafkaReachable();
            response.withData("kafka", reachable ? "reachable" : "unreachable");
            up = up && reachable;
        }
        return response.status(up).build();
    }

    private synchronized boolean kafkaReachable() {
        try {
            if (admin == null) {
                admin = kafka.admin();
            }
            admin.describeCluster().clusterId().get(3, TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) {
            admin.close();
        }
    }
}
