package dev.petal.inference.health;

import dev.petal.inference.InferenceService;
import dev.petal.inference.model.ModelWatcher;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * Live unless the model watcher or the exactly-once scoring loop died; the channels report their own health (Quarkus
 * Messaging's checks).
 */
@Liveness
@ApplicationScoped
public class ServingLiveness implements HealthCheck {
    private final ModelWatcher watcher;
    private final InferenceService service;

    public ServingLiveness(ModelWatcher watcher, InferenceService service) {
        this.watcher = watcher;
        this.service = service;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("petal-inference")
                .withData("scoring", service.isHealthy() ? "running" : "stopped")
                .withData("model-watcher", watcher.isAlive() ? "running" : "stopped")
                .status(service.isHealthy() && watcher.isAlive())
                .build();
    }
}
