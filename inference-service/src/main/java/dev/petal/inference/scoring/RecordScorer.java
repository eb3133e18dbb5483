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
                         long startNanos, long modelNanos) {
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
        return finish(prepare(batch, arrivedAtMillis));
    }

    /**
     * A batch routed and decoded, holding the model(s) it was decoded for until {@link #finish} runs them: between the
     * two, the next batch can be decoded while this one is on the model. {@link #finish} releases the leases, also when
     * it fails.
     */
    public static final class Prepared {
        private final List<ConsumerRecord<byte[], byte[]>> batch;
        private final long arrivedAtMillis;
        private final long startNanos;
        private final ModelHolder.Lease champion;
        private ModelHolder.Lease challenger;
        private final boolean[] toChallenger;
        private ImageScorer.Decoded championInputs;
        private ImageScorer.Decoded challengerInputs;

        private Prepared(List<ConsumerRecord<byte[], byte[]>> batch, long arrivedAtMillis, long startNanos,
                         ModelHolder.Lease champion) {
            this.batch = batch;
            this.arrivedAtMillis = arrivedAtMillis;
            this.startNanos = startNanos;
            this.champion = champion;
            this.toChallenger = new boolean[batch.size()];
        }

        /** How long decoding took, for the champion's inputs and the challenger's together. */
        public long decodeNanos() {
            return championInputs.nanos() + (challengerInputs == null ? 0 : challengerInputs.nanos());
        }

        /** Whether the served model runs on a GPU. */
        public boolean onGpu() {
            return champion.classifier().device().isGpu();
        }

        /** Releases the models: done by {@link #finish}, or by the caller for a batch that will not be finished. */
        public void release() {
            champion.close();
            if (challenger != null) {
                challenger.close();
            }
        }
    }

    /** Leases the served model (and the challenger during a canary), routes each input and decodes it. */
    public Prepared prepare(List<ConsumerRecord<byte[], byte[]>> batch, long arrivedAtMillis) {
        long start = System.nanoTime();
        ModelHolder.Lease champion = holder.acquire().orElseThrow(
                () -> new IllegalStateException("no model, though one was loaded before consumption started"));
        Prepared prepared = new Prepared(batch, arrivedAtMillis, start, champion);
        try {
            ModelHolder.Lease challenger = router.percent() > 0 ? watcher.canaryHolder().acquire().orElse(null) : null;
            prepared.challenger = challenger;
            List<ImageInput> championInputs = new ArrayList<>(batch.size());
            List<ImageInput> challengerInputs = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                ConsumerRecord<byte[], byte[]> in = batch.get(i);
                prepared.toChallenger[i] = challenger != null && router.toChallenger(in);
                (prepared.toChallenger[i] ? challengerInputs : championInputs).add(inputOf(in));
            }
            prepared.championInputs = scorer.decode(championInputs, champion.classifier().preprocessor());
            prepared.challengerInputs = challengerInputs.isEmpty() ? null
                    : scorer.decode(challengerInputs, challenger.classifier().preprocessor());
        } catch (RuntimeException | Error e) {
            prepared.release();
            throw e;
        }
        return prepared;
    }

    /** Runs a prepared batch through its model(s) and turns the results into one output per input, in input order. */
    public Scored finish(Prepared prepared) {
        List<ConsumerRecord<byte[], byte[]>> batch = prepared.batch;
        List<ProducerRecord<byte[], byte[]>> outputs = new ArrayList<>(batch.size());
        List<Double> latencies = new ArrayList<>();
        List<String> deadClasses = new ArrayList<>();
        ModelHolder.Lease lease = prepared.champion;
        ModelHolder.Lease challenger = prepared.challenger;
        long modelNanos;
        try {
            boolean canary = challenger != null;
            ImageScorer.Forward championForward = prepared.championInputs.rejections().length == 0 ? ImageScorer.Forward.NONE
                    : scorer.run(prepared.championInputs, lease.classifier(), scorer.topK());
            ImageScorer.Forward challengerForward = prepared.challengerInputs == null ? ImageScorer.Forward.NONE
                    : scorer.run(prepared.challengerInputs, challenger.classifier(), scorer.topK());
            List<ImageScorer.Outcome> championOutcomes = championForward.outcomes();
            List<ImageScorer.Outcome> challengerOutcomes = challengerForward.outcomes();
            modelNanos = championForward.nanos() + challengerForward.nanos();
            long scored = System.nanoTime();
            int c = 0;
            int k = 0;
            for (int i = 0; i < batch.size(); i++) {
                ConsumerRecord<byte[], byte[]> in = batch.get(i);
                boolean challenged = prepared.toChallenger[i];
                ImageScorer.Outcome outcome = challenged ? challengerOutcomes.get(k++) : championOutcomes.get(c++);
                ModelId model = (challenged ? challenger : lease).classifier().id();
                String route = canary ? (challenged ? CanaryRouter.CANARY : CanaryRouter.CHAMPION) : null;
                if (outcome.scored()) {
                    long from = in.timestamp() > 0 ? in.timestamp() : prepared.arrivedAtMillis;
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
                monitor.evaluate(model(lease), model(challenger));
            }
        } finally {
            prepared.release();
        }
        return new Scored(outputs, latencies, deadClasses, prepared.startNanos, modelNanos);
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
