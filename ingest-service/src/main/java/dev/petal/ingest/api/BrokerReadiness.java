package dev.petal.ingest.api;

import dev.petal.common.records.KafkaClientConfig;
import dev.petal.ingest.cli.IngestConfig;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready when the Kafka cluster answers: uploads can then be acknowledged. */
@Readiness
public class BrokerReadiness implements HealthCheck {
    @Override
    public HealthCheckResponse call() {
        var config = ConfigProvider.getConfig();
        Properties props = KafkaClientConfig.from(config.getPropertyNames(), IngestConfig.lookup());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        try (Admin admin = Admin.create(props)) {
            String cluster = admin.describeCluster().clusterId().get(3, TimeUnit.SECONDS);
            return HealthCheckResponse.named("kafka").up().withData("cluster", cluster).build();
        } catch (Exception e) {
            return HealthCheckResponse.named("kafka").down().withData("error", String.valueOf(e.getMessage())).build();
        }
    }
}
