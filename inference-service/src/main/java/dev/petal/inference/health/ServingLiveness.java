package dev.petal.inference.health;

import dev.petal.inference.model.ModelWatcher;
import dev.petal.inference.scoring.ScoringLoop;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/** Live unless the scoring loop or the model watcher died. */
@Liveness
@ApplicationScoped
public class ServingLiveness implements HealthCheck {
    private final ScoringLoop loop;
    private final ModelWatcher watcher;

    public ServingLiveness(ScoringLoop loop, ModelWatcher watcher) {
        this.loop = loop;
        this.watcher = watcher;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("petal-inference")
                .withData("scoring", loop.isHealthy() ? "running" : "stopped")
                .withData("model-watcher", watcher.isAlive() ? "running" : "stopped")
                .status(loop.isHealthy() && watcher.isAlive())
                .build();
    }
}
