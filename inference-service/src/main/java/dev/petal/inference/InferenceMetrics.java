package dev.petal.inference;

import dev.petal.inference.model.ModelHolder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/** The service's Prometheus metrics ({@code /q/metrics}), all named {@code petal_inference_*}. */
@Startup // registers every meter at boot, so /q/metrics lists them before the first input
@ApplicationScoped
public class InferenceMetrics {
    /**
     * Why a model version (or a {@code petal.models} event) is refused, the {@code reason} tag of
     * {@code petal_inference_model_refusals_total}: a file's sha256, its manifest's signature, weights that
     * do not fit the architecture or label count the manifest names, a key or manifest outside
     * {@code models/<name>/}, an unreadable manifest, any other failure to load or warm up, or an event naming a version
     * that the served alias does not point at ({@code not-aliased}).
     */
    public static final List<String> REFUSAL_REASONS = List.of("sha256", "signature", "shape", "outside-prefix", "manifest", "load",
            InferenceMetrics.NOT_ALIASED);
    /** A {@code petal.models} event for a version that the served alias does not point at: ignored (downgrade protection). */
    public static final String NOT_ALIASED = "not-aliased";

    /**
     * Where a batch's wall time goes, the {@code stage} tag of {@code petal_inference_stage_seconds}: waiting for the
     * next batch (the consumer's poll and the connector's hand-over), decoding and preprocessing its images (on the
     * decode pool), waiting for the batch before to leave the model and be published ({@code model-wait}: with
     * {@code petal.inference.decode-ahead}, decoding runs beside the batch before's model, publishing and waiting), the
     * model's forward pass, building the output records, and publishing them until the broker has acknowledged every one.
     */
    public static final List<String> STAGES = List.of("wait", "decode", "model-wait", "model", "serialise", "publish");
    /**
     * The decode stage per image, summed over the decode pool's threads ({@code petal_inference_image_seconds}):
     * reading the file (JPEG/PNG decoding with subsampling, colour conversion), then scaling to the model's input
     * and normalising into the tensor.
     */
    public static final List<String> IMAGE_PARTS = List.of("read", "resize-normalise");

    private final MeterRegistry registry;
    private final ModelHolder holder;
    private final Counter inputs;
    private final Counter predictions;
    private final DistributionSummary batchSize;
    private final Timer latency;
    private final Timer batchDuration;
    private final Counter reloads;
    private final Map<String, Counter> refusals = new ConcurrentHashMap<>();
    private final Map<String, Timer> stages = new LinkedHashMap<>();
    private final Map<String, Timer> imageParts = new LinkedHashMap<>();
    private final LongAdder besideConsumingThread = new LongAdder();
    private final Set<String> versionsSeen = ConcurrentHashMap.newKeySet();

    public InferenceMetrics(MeterRegistry registry, ModelHolder holder) {
        this.registry = registry;
        this.holder = holder;
        this.inputs = Counter.builder("petal.inference.inputs").description("Records consumed from the input topic").register(registry);
        this.predictions = Counter.builder("petal.inference.predictions").description("Predictions published").register(registry);
        this.batchSize = DistributionSummary.builder("petal.inference.batch.size").description("Inputs per scored batch")
                .publishPercentileHistogram().maximumExpectedValue(1024.0).register(registry);
        this.latency = Timer.builder("petal.inference.latency")
                .description("From the input record's timestamp to its prediction being sent")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry);
        this.batchDuration = Timer.builder("petal.inference.batch.duration").description("Decode, score and publish one batch")
                .publishPercentileHistogram().register(registry);
        this.reloads = Counter.builder("petal.inference.model.reloads").description("Model versions loaded and swapped in").register(registry);
        REFUSAL_REASONS.forEach(this::refusalCounter);
        for (String stage : STAGES) {
            stages.put(stage, Timer.builder("petal.inference.stage").description("Wall time of each stage of scoring a batch")
                    .tag("stage", stage).register(registry));
        }
        for (String part : IMAGE_PARTS) {
            imageParts.put(part, Timer.builder("petal.inference.image").description("Decode work per image, by part")
                    .tag("part", part).register(registry));
        }
    }

    /** Inputs scored and published so far (predictions and dead letters). */
    public long inputs() {
        return (long) inputs.count();
    }

    /** Batches scored and published so far. */
    public long batches() {
        return batchSize.count();
    }

    /** Time spent in one of {@link #STAGES}. */
    public void stage(String stage, long nanos) {
        stages.get(stage).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Time one image spent in one of {@link #IMAGE_PARTS}. */
    public void imagePart(String part, long nanos) {
        imageParts.get(part).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Seconds so far per stage, then per image part ({@code image.read}, ...), in that order. */
    public Map<String, Double> stageSeconds() {
        Map<String, Double> out = new LinkedHashMap<>();
        stages.forEach((stage, timer) -> out.put(stage, timer.totalTime(TimeUnit.NANOSECONDS) / 1e9));
        imageParts.forEach((part, timer) -> out.put("image." + part, timer.totalTime(TimeUnit.NANOSECONDS) / 1e9));
        return out;
    }

    private Counter refusalCounter(String reason) {
        return refusals.computeIfAbsent(reason, r -> Counter.builder("petal.inference.model.refusals")
                .description("Model versions and model events refused (failed verification or loading), by reason")
                .tag("reason", r).register(registry));
    }

    public void batch(int size, Duration took) {
        inputs.increment(size);
        batchSize.record(size);
        batchDuration.record(took);
    }

    /** A batch decoded while the batch before was on the model ({@code petal.inference.decode-ahead}). */
    public void decodedAhead() {
        registry.counter("petal.inference.batches.decoded.ahead").increment();
    }

    public double batchesDecodedAhead() {
        return registry.counter("petal.inference.batches.decoded.ahead").count();
    }

    /**
     * Time a batch decoded ahead spent on the model, serialising and publishing ({@code petal-score}'s part): those
     * stages ran beside the consuming thread's, so a breakdown of the wall time leaves them out.
     */
    public void besideConsumingThread(long nanos) {
        besideConsumingThread.add(nanos);
    }

    /** Seconds so far of {@link #besideConsumingThread}. */
    public double besideConsumingThreadSeconds() {
        return besideConsumingThread.sum() / 1e9;
    }

    public void prediction(double latencyMs) {
        predictions.increment();
        latency.record(Duration.ofNanos((long) (latencyMs * 1_000_000)));
    }

    public void deadLetter(String errorClass) {
        registry.counter("petal.inference.dead.letters", "error_class", errorClass).increment();
    }

    /** A model was swapped in; {@code petal_inference_model_loaded{version=...}} is 1 for the one serving. */
    public void reloaded(String version) {
        reloads.increment();
        if (versionsSeen.add(version)) {
            Gauge.builder("petal.inference.model.loaded", holder, h -> h.version().map(version::equals).orElse(false) ? 1 : 0)
                    .description("1 for the model version being served").tag("version", version).register(registry);
        }
    }

    /** A version or event was refused; {@code reason} is one of {@link #REFUSAL_REASONS}. */
    public void refused(String reason) {
        refusalCounter(reason).increment();
    }

    /** Refusals so far, all reasons together. */
    public double refusals() {
        return refusals.values().stream().mapToDouble(Counter::count).sum();
    }

    public double refusals(String reason) {
        Counter counter = refusals.get(reason);
        return counter == null ? 0 : counter.count();
    }

    public double reloads() {
        return reloads.count();
    }

    /** Predictions published so far. */
    public double predictions() {
        return predictions.count();
    }
}
