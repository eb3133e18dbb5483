package dev.petal.e2e.containers;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;

/**
 * Skips a Testcontainers class where no Docker engine is reachable (as on the project's development VMs), saying what
 * it needs; the embedded stack serves every other test there.
 */
public class RequiresDocker implements ExecutionCondition {
    private static Boolean available;

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (dockerAvailable()) {
            return ConditionEvaluationResult.enabled("a Docker engine is reachable");
        }
        return ConditionEvaluationResult.disabled("needs a Docker engine for Testcontainers (DOCKER_HOST or /var/run/docker.sock), "
                + "to run " + ContainerImages.KAFKA + " and " + ContainerImages.MINIO + "; none is reachable here");
    }

    private static synchronized boolean dockerAvailable() {
        if (available == null) {
            try {
                available = DockerClientFactory.instance().isDockerAvailable();
            } catch (RuntimeException | LinkageError e) {
                available = false;
            }
        }
        return available;
    }
}
