package dev.petal.ingest;

import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates missing topics with the configured partition counts and the contract's topic settings
 * ({@link Topics#CONFIGS}), never the broker's silent defaults. Existing topics are left as they are.
 * Doubles as the reachability check: an unreachable broker fails here, within the broker timeout.
 */
public final class TopicProvisioner {
    private static final Logger LOG = LoggerFactory.getLogger(TopicProvisioner.class);

    private TopicProvisioner() {}

    public static void ensure(IngestSettings settings, KafkaClients kafka, String... topics) {
        long timeoutMs = settings.brokerTimeout().toMillis();
        try (Admin admin = kafka.admin(settings.brokerTimeout())) {
            Set<String> existing = admin.listTopics().names().get(timeoutMs, TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String topic : topics) {
                if (!existing.contains(topic)) {
                    // The contract's settings: petal.train is kept forever (Topics.CONFIGS).
                    missing.add(new NewTopic(topic, settings.partitionsOf(topic), settings.replicationFactor())
                            .configs(Topics.configsOf(topic)));
                }
            }
            if (missing.isEmpty()) {
                return;
            }
            try {
                admin.createTopics(missing).all().get(timeoutMs, TimeUnit.MILLISECONDS);
                missing.forEach(t -> LOG.info("created topic {} with {} partitions", t.name(), t.numPartitions()));
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) { // another client created it meanwhile: fine
                    throw e;
                }
            }
        } catch (TimeoutException e) {
            throw unreachable(settings, kafka.bootstrapServers(), e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw unreachable(settings, kafka.bootstrapServers(), e.getCause());
            }
            throw new IngestFailedException("could not create topics on Kafka at " + kafka.bootstrapServers()
                    + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IngestFailedException("interrupted while contacting Kafka", e);
        }
    }

    static IngestFailedException unreachable(IngestSettings settings, String brokers, Throwable cause) {
        return new IngestFailedException("Kafka at " + brokers + " did not answer within "
                + settings.brokerTimeout().toSeconds() + " s; is the broker running? (set "
                + "kafka.bootstrap.servers or KAFKA_BOOTSTRAP_SERVERS)", cause);
    }
}
