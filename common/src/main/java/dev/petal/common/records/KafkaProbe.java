package dev.petal.common.records;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Asks the cluster for its id, for readiness checks. One admin client serves every probe: health
 * endpoints are polled every few seconds, and a client per call would open connections each time.
 */
public final class KafkaProbe implements AutoCloseable {
    private final Properties props;
    private final Duration timeout;
    private Admin admin;

    public KafkaProbe(Properties clientProps, Duration timeout) {
        this.props = new Properties();
        props.putAll(clientProps);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(timeout.toMillis()));
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(timeout.toMillis()));
        this.timeout = timeout;
    }

    /** The cluster id; throws when the cluster does not answer within the timeout. */
    public synchronized String clusterId() throws Exception {
        if (admin == null) {
            admin = Admin.create(props);
        }
        return admin.describeCluster().clusterId().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
            admin = null;
        }
    }
}
