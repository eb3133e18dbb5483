package dev.petal.ingest;

import dev.petal.common.records.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Everything ingestion can be tuned with. The same keys serve the Quarkus commands
 * ({@code application.properties}, environment variables such as {@code PETAL_INGEST_INLINE_MAX_BYTES})
 * and plain mains ({@code -Dpetal.ingest.inline-max-bytes=...}): see {@link #fromConfig(Function)}.
 *
 * @param bootstrapServers  Kafka bootstrap servers
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
public record IngestSettings(String bootstrapServers, int inlineMaxBytes, Map<String, Integer> partitions,
                             short replicationFactor, int threads, int lingerMs, int batchBytes,
                             String compression, Duration brokerTimeout, Duration progressInterval) {

    public static final String BOOTSTRAP_SERVERS = "kafka.bootstrap.servers";
    public static final String INLINE_MAX_BYTES = "petal.ingest.inline-max-bytes";
    public static final String PARTITIONS_PREFIX = "petal.ingest.partitions.";
    public static final String REPLICATION_FACTOR = "petal.ingest.replication-factor";
    public static final String THREADS = "petal.ingest.threads";
    public static final String LINGER_MS = "petal.ingest.linger-ms";
    public static final String BATCH_BYTES = "petal.ingest.batch-bytes";
    public static final String COMPRESSION = "petal.ingest.compression";
    public static final String BROKER_TIMEOUT = "petal.ingest.broker-timeout";
    public static final String PROGRESS_INTERVAL = "petal.ingest.progress-interval";

    /** The same counts as local-stack creates, so every environment partitions alike. */
    public static final Map<String, Integer> DEFAULT_PARTITIONS = Map.of(Topics.TRAIN, 3, Topics.IMAGES, 6, Topics.DLQ, 3);

    public IngestSettings {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        partitions = Map.copyOf(partitions);
        if (inlineMaxBytes < 1 || threads < 1 || replicationFactor < 1) {
            throw new IllegalArgumentException("inline-max-bytes, threads and replication-factor must be positive");
        }
    }

    public static IngestSettings defaults(String bootstrapServers) {
        return fromConfig(key -> BOOTSTRAP_SERVERS.equals(key) ? bootstrapServers : null);
    }

    /** Reads the keys above through {@code lookup}, which returns {@code null} for a missing key. */
    public static IngestSettings fromConfig(Function<String, String> lookup) {
        Config c = new Config(lookup);
        Map<String, Integer> partitions = Map.of(
                Topics.TRAIN, c.integer(PARTITIONS_PREFIX + "train", DEFAULT_PARTITIONS.get(Topics.TRAIN)),
                Topics.IMAGES, c.integer(PARTITIONS_PREFIX + "images", DEFAULT_PARTITIONS.get(Topics.IMAGES)),
                Topics.DLQ, c.integer(PARTITIONS_PREFIX + "dlq", DEFAULT_PARTITIONS.get(Topics.DLQ)));
        return new IngestSettings(
                c.string(BOOTSTRAP_SERVERS, "localhost:9092"),
                c.integer(INLINE_MAX_BYTES, 900 * 1024),
                partitions,
                (short) c.integer(REPLICATION_FACTOR, 1),
                c.integer(THREADS, Math.max(2, Runtime.getRuntime().availableProcessors())),
                c.integer(LINGER_MS, 10),
                c.integer(BATCH_BYTES, 1024 * 1024),
                c.string(COMPRESSION, "none"),
                Duration.ofSeconds(c.integer(BROKER_TIMEOUT, 20)),
                Duration.ofSeconds(c.integer(PROGRESS_INTERVAL, 5)));
    }

    public int partitionsOf(String topic) {
        Integer count = partitions.get(topic);
        if (count == null) {
            throw new IllegalArgumentException("no partition count configured for topic " + topic);
        }
        return count;
    }

    public IngestSettings withInlineMaxBytes(int bytes) {
        return new IngestSettings(bootstrapServers, bytes, partitions, replicationFactor, threads, lingerMs,
                batchBytes, compression, brokerTimeout, progressInterval);
    }

    public IngestSettings withCompression(String type) {
        return new IngestSettings(bootstrapServers, inlineMaxBytes, partitions, replicationFactor, threads, lingerMs,
                batchBytes, type, brokerTimeout, progressInterval);
    }

    public IngestSettings withBrokerTimeout(Duration timeout) {
        return new IngestSettings(bootstrapServers, inlineMaxBytes, partitions, replicationFactor, threads, lingerMs,
                batchBytes, compression, timeout, progressInterval);
    }

    private record Config(Function<String, String> lookup) {
        String string(String key, String fallback) {
            String value = lookup.apply(key);
            return value == null || value.isBlank() ? fallback : value.trim();
        }

        int integer(String key, int fallback) {
            String value = string(key, null);
            try {
                return value == null ? fallback : Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " must be an integer, was '" + value + "'");
            }
        }
    }
}
