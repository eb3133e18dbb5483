package dev.petal.console;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;

/** The console's own settings ({@code petal.console.*}; environment {@code PETAL_CONSOLE_TRAINER_URL} etc.). */
@ConfigMapping(prefix = "petal.console")
public interface ConsoleSettings {
    /** The trainer's API: training runs ({@code /train}) and the model lifecycle ({@code /models}, {@code /dlq}). */
    String trainerUrl();

    /**
     * Inference's metrics, one URL per replica or a name that resolves to every replica's address (a headless
     * Service): {@code http://petal-inference-pods:9000/q/metrics}.
     */
    List<String> inferenceMetricsUrls();

    /** The scoring replicas' consumer group, whose lag the scoring page shows. */
    String inferenceGroup();

    /** The model the pages start on. */
    String modelName();

    /** The longest a session lasts, whatever the token's own expiry (which ends it sooner). */
    Duration sessionMax();

    /** How long a one-time login code of {@code ./petal console} may wait to be used. */
    Duration loginCodeTtl();

    /** Mark the session cookie {@code Secure} (behind TLS). */
    boolean secureCookie();

    /** How often the live view sends an update. */
    @WithDefault("1s")
    Duration refresh();
}
