package dev.petal.trainer.cli;

import dev.petal.common.registry.RegistryException;
import dev.petal.trainer.registry.Lifecycle;
import dev.petal.trainer.service.TrainerConfig;

/**
 * How {@code ./petal model ...} and {@code ./petal dlq ...} run: on their own connections to object storage and Kafka
 * (no trainer service needed); a refusal of the registry or the dead-letter reader is one line on stderr and exit code 1.
 */
final class LifecycleCommand {
    private LifecycleCommand() {}

    interface Body {
        int run(Lifecycle lifecycle) throws Exception;
    }

    static int run(String command, TrainerConfig config, Body body) throws Exception {
        try (Lifecycle lifecycle = new Lifecycle(config.s3(), config.kafka())) {
            return body.run(lifecycle);
        } catch (RegistryException e) {
            System.err.println("petal " + command + ": " + e.getMessage());
            return 1;
        }
    }
}
