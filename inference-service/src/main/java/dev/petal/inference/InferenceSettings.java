package dev.petal.inference;

import dev.petal.common.model.Precision;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** The {@code petal.inference.*} settings; every one has a default (environment: PETAL_INFERENCE_MAX_BATCH, ...). */
@ConfigMapping(prefix = "petal.inference")
public interface InferenceSettings {
    /** Most inputs scored together. */
    @WithDefault("32")
    int maxBatch();

    /** How long a batch waits for more inputs after its first one arrived. */
    @WithDefault("20")
    long maxWaitMs();

    /** Labels per prediction. */
    @WithDefault("3")
    int topK();

    /** The model to serve. */
    @WithDefault("petal")
    String modelName();

    /** Serve this version only and stop following {@code latest}. */
    Optional<String> modelVersion();

    /** Fallback to the {@code petal.models} events: how often {@code models/<name>/latest} is read. */
    @WithDefault("30s")
    Duration pollInterval();

    /** Consumer group of the scoring replicas. */
    @WithDefault("petal-inference")
    String group();

    /** Kafka transactions: outputs and input offsets commit together (exactly once). */
    @WithDefault("false")
    boolean exactlyOnce();

    /** Where the model runs: cpu, gpu or auto. */
    @WithDefault("auto")
    String device();

    /**
     * What the model computes in: fp32, or bf16 (bfloat16; about 1.5x the images/s on CPUs with AVX-512
     * BF16 or AMX, slower on CPUs without them; see docs/performance.md for its accuracy).
     */
    @WithDefault("fp32")
    Precision precision();

    /** Threads that fetch and decode inputs; 0 means one per CPU core. */
    @WithDefault("0")
    int decodeThreads();

    /** Topic read for inputs (the contract's petal.images; other names serve benchmarks). */
    @WithDefault("petal.images")
    String inputTopic();

    /** Topic written with predictions. */
    @WithDefault("petal.predictions")
    String outputTopic();

    /** Topic written with inputs that could not be scored. */
    @WithDefault("petal.dlq")
    String deadLetterTopic();
}
