package dev.petal.ingest;

import dev.petal.common.records.Topics;
import java.time.Duration;
import java.util.Map;

/**
 * Everything ingestion can be tuned with, as one value: read from the {@code petal.ingest.*} keys by
 * {@link IngestConfig} (defaults in {@code application.properties}), and changed for one run with the
 * {@code with*} methods.
 *
 * @param inlineMaxBytes    images larger than this travel by claim-check (bytes in object storage)
 * @param partitions        partition count per topic, used when ingestion creates a missing topic
 * @param replicationFactor replication factor of created topics
 * @param threads           threads that read, hash and validate files
 * @param lingerMs          producer linger.ms
 * @param batchBytes        producer batch.size
 * @param compression       producer compression.type (JPEG does not compress: none by default)
 * @param brokerTimeout     how long to wait for an unreachable broker before giving up
 * @param progressInterval  how often progress is logged when stderr is not a terminal
 */
public record IngestSettings(int inlineMaxBytes, Map<String, Integer> partitions, short replicationFactor, int threads,
                             int lingerMs, int batchBytes, String compression, Duration brokerTimeout,
                             Duration progressInterval) {

    public IngestSettings {
        partitions = Map.copyOf(partitions);
        if (inlineMaxBytes < 1 || threads < 1 || replicationFactor < 1) {
            throw new IllegalArgumentException("inline-max-bytes, threads and replication-factor must be positive");
        }
    }

    public int partitionsOf(String topic) {
        Integer count = partitions.get(topic);
        if (count == null) {
            throw new IllegalArgumentException("no partition count configured for topic " + topic);
        }
        return count;
    }

    /** The topics ingestion creates when missing, with their partition counts. */
    static Map<String, Integer> partitions(int train, int images, int dlq) {
        return Map.of(Topics.TRAIN, train, Topics.IMAGES, images, Topics.DLQ, dlq);
    }

    public IngestSettings withInlineMaxBytes(int bytes) {
        return new IngestSettings(bytes, partitions, replicationFactor, threads, lingerMs, batchBytes, compression,
                brokerTimeout, progressInterval);
    }

    public IngestSettings withBrokerTimeout(Duration timeout) {
        return new IngestSettings(inlineMaxBytes, partitions, replicationFactor, threads, lingerMs, batchBytes, compression,
                timeout, progressInterval);
    }
}
