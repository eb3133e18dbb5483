package dev.petal.ingest.api;

import dev.petal.common.records.KafkaClientConfig;
import dev.petal.common.records.KafkaProbe;
import dev.petal.ingest.cli.IngestConfig;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready when the Kafka cluster answers: uploads can then be acknowledged. */
@Readiness
@ApplicationScoped
public class BrokerReadiness implements HealthCheck {
    private KafkaProbe probe;

    @Override
    public synchronized HealthCheckResponse call() {
        try {
            if (probe == null) {
                probe = new KafkaProbe(KafkaClientConfig.from(ConfigProvider.getConfig().getPropertyNames(),
                        IngestConfig.lookup()), Duration.ofSeconds(3));
            }
            return HealthCheckResponse.named("kafka").up().withData("cluster", probe.clusterId()).build();
        } catch (Exception e) {
            return HealthCheckResponse.named("kafka").down().withData("error", String.valueOf(e.getMessage())).build();
        }
    }

    @PreDestroy
    synchronized void close() {
        if (probe != null) {
            probe.close();
        }
    }
}
