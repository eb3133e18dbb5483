package dev.petal.inference.scoring;

import dev.petal.common.inference.ModelId;
import dev.petal.common.inference.Prediction;
import dev.petal.common.records.Headers;
import dev.petal.inference.InferenceMetrics;
import dev.petal.inference.InferenceSettings;
import dev.petal.common.records.Topics;
import dev.petal.inference.model.ModelHolder;
import dev.petal.inference.model.ModelWatcher;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Turns a batch of consumed {@code petal.images} records into their outputs, one per input and in input order: a
 * prediction for {@code petal.predictions} or a dead letter for {@code petal.dlq} ({@link OutputRecords}). The whole
 * batch is scored by one model: it leases the model being served, so a hot swap takes effect between batches.
 *
 * <p>Latency is measured from the input record's timestamp (producer create time, or broker append time) to the
 * moment its prediction is made; records without a timestamp count from when the batch arrived.
 */
@ApplicationScoped
public class RecordScorer {
    private final InferenceSettings settings;
    private final ModelHolder holder;
    private final ImageScorer scorer;
    private final ClaimCheck claimCheck;
    private final ModelWatcher watcher;
    private final CanaryRouter router;
    private final CanaryMonitor monitor;
    private final InferenceMetrics metrics;

    public RecordScorer(InferenceSettings settings, ModelHolder holder, ImageScorer scorer, ClaimCheck claimCheck, ModelWatcher watcher,
                        CanaryRouter router, CanaryMonitor monitor, InferenceMetrics metrics) {
        this.metrics = metrics;
        this.settings = settings;
        this.holder = holder;
        this.scorer = scorer;
        this.claimCheck = claimCheck;
        this.watcher = watcher;
        this.router = router;
        this.monitor = monitor;
    }

    /** Where predictions go: {@code petal.predictions.shadow} in shadow mode, whatever the output topic says. */
    public String outputTopic() {
        return watcher.isShadow() ? Topics.PREDICTIONS_SHADOW : settings.outputTopic();
    }

    /** A scored batch: output {@code i} answers input {@code i}. */
    public record Scored(List<ProducerRecord<byte[], byte[]>> outputs, List<Double> latencies, List<String> deadLetterClasses,
                         long startNanos) {
        /** Counts the batch in the service's metrics; called once its outputs are on the broker. */
        public void count(InferenceMetrics metrics) {
            latencies.forEach(metrics::prediction);
            deadLetterClasses.forEach(metrics::deadLetter);
            metrics.batch(outputs.size(), Duration.ofNanos(System.nanoTime() - startNanos));
        }
    }

    /**
     * Scores a batch: by the served model, or during a canary split by key between the champion and the challenger
     * ({@link CanaryRouter}), each leased for the whole batch; outputs in input order either way.
     */
    public Scored score(List<ConsumerRecord<byte[], byte[]>> batch, long arrivedAtMillis) {
        long start = System.nanoTime();
        Optional<ModelHolder.Lease> held = holder.acquire();
        if (held.isEmpty()) {
            throw new IllegalStateException("no model, though one was loaded before consumption started");
        }
        List<ProducerRecord<byte[], byte[]>> outputs = new ArrayList<>(batch.size());
        List<Double> latencies = new ArrayList<>();
        List<String> deadClasses = new ArrayList<>();
        Optional<ModelHolder.Lease> challenger = router.percent() > 0 ? watcher.canaryHolder().acquire() : Optional.empty();
        try (ModelHolder.Lease lease = held.get()) {
            boolean canary = challenger.isPresent();
            boolean[] toChallenger = new boolean[batch.size()];
            List<ImageInput> championInputs = new ArrayList<>(batch.size());
            List<ImageInput> challengerInputs = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                ConsumerRecord<byte[], byte[]> in = batch.get(i);
                toChallenger[i] = canary && router.toChallenger(in);
                (toChallenger[i] ? challengerInputs : championInputs).add(inputOf(in));
            }
            List<ImageScorer.Outcome> championOutcomes = championInputs.isEmpty() ? List.of()
                    : scorer.score(championInputs, lease.classifier());
            List<ImageScorer.Outcome> challengerOutcomes = challengerInputs.isEmpty() ? List.of()
                    : scorer.score(challengerInputs, challenger.get().classifier());
            long scored = System.nanoTime();
            int c = 0;
            int k = 0;
            for (int i = 0; i < batch.size(); i++) {
                ConsumerRecord<byte[], byte[]> in = batch.get(i);
                ImageScorer.Outcome outcome = toChallenger[i] ? challengerOutcomes.get(k++) : championOutcomes.get(c++);
                ModelId model = (toChallenger[i] ? challenger.get() : lease).classifier().id();
                String route = canary ? (toChallenger[i] ? CanaryRouter.CANARY : CanaryRouter.CHAMPION) : null;
                if (outcome.scored()) {
                    long from = in.timestamp() > 0 ? in.timestamp() : arrivedAtMillis;
                    double latency = Math.max(0, System.currentTimeMillis() - from);
                    Prediction p = Prediction.of(OutputRecords.predictionId(in), outcome.top(), model,
                            Prediction.Source.record(in.topic(), in.partition(), in.offset()), latency);
                    outputs.add(OutputRecords.prediction(outputTopic(), in, p, route));
                    latencies.add(latency);
                } else {
                    outputs.add(OutputRecords.deadLetter(settings.deadLetterTopic(), in, outcome.rejection()));
                    deadClasses.add(outcome.rejection().errorClass());
                }
                if (route != null) {
                    monitor.observe(route, observation(in, outcome));
                }
            }
            metrics.stage("serialise", System.nanoTime() - scored);
            if (canary) {
                monitor.evaluate(model(lease), model(challenger.get()));
            }
        } finally {
            challenger.ifPresent(ModelHolder.Lease::close);
        }
        return new Scored(outputs, latencies, deadClasses, start);
    }

    private static String model(ModelHolder.Lease lease) {
        return lease.classifier().id().version();
    }

    /** What the canary counts of an input: a dead letter, or the top-1 confidence and, with a {@code label} header, whether it was right. */
    private static CanaryMonitor.Observation observation(ConsumerRecord<byte[], byte[]> in, ImageScorer.Outcome outcome) {
        if (!outcome.scored()) {
            return new CanaryMonitor.Observation(true, 0, null);
        }
        Header label = in.headers().lastHeader(Headers.LABEL);
        Boolean correct = label == null || label.value() == null ? null
                : outcome.top().get(0).label().equals(new String(label.value(), StandardCharsets.UTF_8));
        return new CanaryMonitor.Observation(false, outcome.top().get(0).score(), correct);
    }

    private ImageInput inputOf(ConsumerRecord<byte[], byte[]> in) {
        Header ref = in.headers().lastHeader(Headers.IMAGE_REF);
        if (ref != null) {
            return claimCheck.input(ref.value() == null ? null : new String(ref.value(), StandardCharsets.UTF_8));
        }
        return ImageInput.of(in.value() == null ? new byte[0] : in.value());
    }
}
