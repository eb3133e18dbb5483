package dev.petal.inference.scoring;

import dev.petal.common.inference.ModelId;
import dev.petal.common.inference.Prediction;
import dev.petal.common.records.Headers;
import dev.petal.inference.InferenceMetrics;
import dev.petal.inference.InferenceSettings;
import dev.petal.inference.model.ModelHolder;
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

    public RecordScorer(InferenceSettings settings, ModelHolder holder, ImageScorer scorer, ClaimCheck claimCheck) {
        this.settings = settings;
        this.holder = holder;
        this.scorer = scorer;
        this.claimCheck = claimCheck;
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

    public Scored score(List<ConsumerRecord<byte[], byte[]>> batch, long arrivedAtMillis) {
        long start = System.nanoTime();
        Optional<ModelHolder.Lease> held = holder.acquire();
        if (held.isEmpty()) {
            throw new IllegalStateException("no model, though one was loaded before consumption started");
        }
        List<ProducerRecord<byte[], byte[]>> outputs = new ArrayList<>(batch.size());
        List<Double> latencies = new ArrayList<>();
        List<String> deadClasses = new ArrayList<>();
        try (ModelHolder.Lease lease = held.get()) {
            List<ImageInput> inputs = new ArrayList<>(batch.size());
            for (ConsumerRecord<byte[], byte[]> in : batch) {
                inputs.add(inputOf(in));
            }
            List<ImageScorer.Outcome> outcomes = scorer.score(inputs, lease.classifier());
            ModelId model = lease.classifier().id();
            for (int i = 0; i < batch.size(); i++) {
                ConsumerRecord<byte[], byte[]> in = batch.get(i);
                ImageScorer.Outcome outcome = outcomes.get(i);
                if (outcome.scored()) {
                    long from = in.timestamp() > 0 ? in.timestamp() : arrivedAtMillis;
                    double latency = Math.max(0, System.currentTimeMillis() - from);
                    Prediction p = Prediction.of(OutputRecords.predictionId(in), outcome.top(), model,
                            Prediction.Source.record(in.topic(), in.partition(), in.offset()), latency);
                    outputs.add(OutputRecords.prediction(settings.outputTopic(), in, p));
                    latencies.add(latency);
                } else {
                    outputs.add(OutputRecords.deadLetter(settings.deadLetterTopic(), in, outcome.rejection()));
                    deadClasses.add(outcome.rejection().errorClass());
                }
            }
        }
        return new Scored(outputs, latencies, deadClasses, start);
    }

    private ImageInput inputOf(ConsumerRecord<byte[], byte[]> in) {
        Header ref = in.headers().lastHeader(Headers.IMAGE_REF);
        if (ref != null) {
            return claimCheck.input(ref.value() == null ? null : new String(ref.value(), StandardCharsets.UTF_8));
        }
        return ImageInput.of(in.value() == null ? new byte[0] : in.value());
    }
}
