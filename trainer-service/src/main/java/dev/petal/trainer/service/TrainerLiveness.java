package dev.petal.trainer.service;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/** DOWN once a training run hit an error the JVM may not recover from (out of memory), so the process is restarted. */
@Liveness
@ApplicationScoped
public class TrainerLiveness implements HealthCheck {
    private final TrainingRuns runs;

    public TrainerLiveness(TrainingRuns runs) {
        this.runs = runs;
    }

    @Override
    public HealthCheckResponse call() {
        String fatal = runs.fatal();
        return HealthCheckResponse.named("training-runs").status(fatal == null).withData("fatal", fatal == null ? "none" : fatal).build();
    }
}
