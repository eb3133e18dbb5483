package dev.petal.ingest;

import io.smallrye.config.ConfigMapping;
import java.time.Duration;

/**
 * The {@code petal.ingest.*} settings, validated when ingest starts; their defaults are in
 * {@code application.properties}, once (environment: PETAL_INGEST_INLINE_MAX_BYTES, ...).
 */
@ConfigMapping(prefix = "petal.ingest")
public interface IngestConfig {
    /** Images larger than this travel by claim-check ({@code image-ref} header), in bytes. */
    int inlineMaxBytes();

    /** Partitions of the topics ingest creates when missing. */
    Partitions partitions();

    /** Replication factor of the topics ingest creates. */
    short replicationFactor();

    /** Validation threads; 0: one per core, at least 2. */
    int threads();

    /** Producer batching: {@code linger.ms} and {@code batch.size} of the {@code published-images} channel. */
    int lingerMs();

    int batchBytes();

    /** Producer compression ({@code none}: JPEG does not compress). */
    String compression();

    /** Seconds before an unreachable broker fails the run (exit code 1). */
    int brokerTimeout();

    /** Seconds between progress lines when not on a terminal. */
    int progressInterval();

    interface Partitions {
        int train();

        int images();

        int dlq();
    }

    default IngestSettings settings() {
        int cores = Math.max(2, Runtime.getRuntime().availableProcessors());
        return new IngestSettings(inlineMaxBytes(), IngestSettings.partitions(partitions().train(), partitions().images(),
                partitions().dlq()), replicationFactor(), threads() > 0 ? threads() : cores, lingerMs(), batchBytes(),
                compression(), Duration.ofSeconds(brokerTimeout()), Duration.ofSeconds(progressInterval()));
    }
}
