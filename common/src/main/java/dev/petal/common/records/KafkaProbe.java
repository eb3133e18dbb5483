package dev.petal.common.records;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;

/**
 * Asks the cluster for its id, for readiness checks. One admin client serves every probe: health
 * endpoints are polled every few seconds, and a client per call would open connections each time.
 */
public final class KafkaProbe implements AutoCloseable {
    private final KafkaClients clients;
    private final Duration timeout;
    private Admin admin;

    public KafkaProbe(KafkaClients clients, Duration timeout) {
        this.clients = clients;
        this.timeout = timeout;
    }

    /** The cluster id; throws when the cluster does not answer within the timeout. */
    public synchronized String clusterId() throws Exception {
        if (admin == null) {
            admin = clients.admin(timeout);
        }
        return admin.describeCluster().clusterId().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether the cluster answers within the timeout. */
    public boolean reachable() {
        try {
            clusterId();
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public synchronized void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
            admin = null;
        }
    }
}
