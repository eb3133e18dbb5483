package dev.petal.inference;

import dev.petal.common.model.Precision;
import dev.petal.common.model.ServingRuntime;
import io.smallrye.config.ConfigMapping;
import java.time.Duration;
import java.util.Optional;

/**
 * The {@code petal.inference.*} settings, validated when the service starts. Their defaults are in
 * {@code application.properties}, once (environment: PETAL_INFERENCE_MAX_BATCH, ...); the {@code images} and
 * {@code outputs} channels take their topics, group and batch size from here too.
 */
@ConfigMapping(prefix = "petal.inference")
public interface InferenceSettings {
    /** Most inputs scored together. */
    int maxBatch();

    /** How long a batch waits for more inputs after its first one arrived. */
    long maxWaitMs();

    /** Labels per prediction. */
    int topK();

    /** The model to serve. */
    String modelName();

    /** Serve this version only and stop following the alias. */
    Optional<String> modelVersion();

    /** The alias served ({@code champion}); shadow mode serves {@code challenger}. */
    String modelAlias();

    /** {@code serve}, or {@code shadow}: serve {@code challenger} under the group {@code <group>-shadow}, writing only to {@code petal.predictions.shadow}. */
    String mode();

    /** Canary: inputs whose key hashes into the first P of 100 buckets are scored by {@code challenger}; 0: none. */
    int canaryPercent();

    /** Canary: inputs per route in the sliding window the routes are compared over. */
    int canaryWindow();

    /** Canary: how many points (accuracy, dead-letter rate, mean top-1 confidence, each in percent) the challenger may be worse. */
    double canaryThreshold();

    /** Canary: promote the challenger to champion when a full window finds it no worse. */
    boolean canaryPromote();

    /** Fallback to the {@code petal.models} events: how often the alias ({@code models/<name>/aliases/<alias>}) is read. */
    Duration pollInterval();

    /** Consumer group of the scoring replicas. */
    String group();

    /** Kafka transactions: outputs and input offsets commit together (exactly once). */
    boolean exactlyOnce();

    /** Where the model runs: cpu, gpu or auto. */
    String device();

    /**
     * What the model computes in: fp32; bf16 (bfloat16; faster on CPUs with AVX-512 BF16 or AMX, slower on
     * CPUs without them); or int8 (ONNX Runtime's integer kernels on a CPU, over the
     * calibration the trainer stores with each validated version). docs/performance.md gives their speed and accuracy.
     */
    Precision precision();

    /**
     * Which runtime computes the forward: auto (the faster of libtorch and ONNX Runtime for this network on this
     * CPU, timed at its first load; libtorch for bf16 or a GPU, ONNX Runtime for int8), libtorch, or onnxruntime (fp32 or
     * int8 on a CPU).
     */
    ServingRuntime runtime();

    /** Threads that fetch and decode inputs; 0 means one per CPU core. */
    int decodeThreads();

    /** {@link #decodeThreads()} with 0 resolved to this machine's cores. */
    default int decodeThreadCount() {
        return decodeThreads() > 0 ? decodeThreads() : Runtime.getRuntime().availableProcessors();
    }

    /**
     * Decode the next batch while the batch before is on the model and being published (at most two batches in
     * flight, outputs still in input order), or decode, score and publish each batch before the next. Unset: ahead
     * on a GPU, and on a CPU while decoding a batch takes at least as long as its forward pass (docs/performance.md).
     */
    Optional<Boolean> decodeAhead();

    /** Topic read for inputs (the contract's petal.images; other names serve benchmarks). */
    String inputTopic();

    /** Topic written with predictions. */
    String outputTopic();

    /** Topic written with inputs that could not be scored. */
    String deadLetterTopic();

    /**
     * How long outputs or input offsets may wait for the broker before scoring counts as stalled: readiness DOWN,
     * {@code petal_inference_stalls_total} counted, one log line per interval (docs/reliability.md).
     */
    Duration stallTimeout();
}
