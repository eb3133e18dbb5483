package dev.petal.trainer.service;

import dev.petal.common.storage.ObjectStore;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready when Kafka and object storage both answer: a run could start and publish. */
@Readiness
public class DependenciesReadiness implements HealthCheck {
    @Override
    public HealthCheckResponse call() {
        var response = HealthCheckResponse.named("kafka-and-s3");
        Properties props = TrainerConfig.kafka();
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        try (Admin admin = Admin.create(props)) {
            response.withData("kafka", admin.describeCluster().clusterId().get(3, TimeUnit.SECONDS));
        } catch (Exception e) {
            return response.down().withData("kafka", "unreachable: " + e.getMessage()).build();
        }
        try (ObjectStore store = new ObjectStore(TrainerConfig.s3())) {
            store.exists("models/.probe");
            response.withData("s3", store.bucket());
        } catch (RuntimeException e) {
            return response.down().withData("s3", "unreachable: " + e.getMessage()).build();
        }
        return response.up().build();
    }
}
