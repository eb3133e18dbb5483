package dev.petal.trainer.service;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.trainer.job.TrainingListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

/** The trainer's Prometheus metrics ({@code /q/metrics}), all named {@code petal_trainer_*}, fed by the running job. */
@Startup // registers every meter at boot, so /q/metrics lists them before the first run
@ApplicationScoped
public class TrainingMetrics implements TrainingListener {
    private volatile double imagesPerSecond;
    private volatile double loss = Double.NaN;
    private volatile double validAccuracy = Double.NaN;
    private volatile long step;
    private volatile long totalSteps;
    private volatile int epoch;
    private volatile int running;
    private final Counter checkpoints;
    private final Counter uploadRetries;
    private final Counter deadLetters;
    private final Counter runsSucceeded;
    private final Counter runsFailed;

    public TrainingMetrics(MeterRegistry registry) {
        Gauge.builder("petal.trainer.images.per.second", this, m -> m.imagesPerSecond)
                .description("Training throughput of the current epoch").register(registry);
        Gauge.builder("petal.trainer.loss", this, m -> m.loss).description("Loss of the last training step").register(registry);
        Gauge.builder("petal.trainer.step", this, m -> m.step).description("Global step of the current run").register(registry);
        Gauge.builder("petal.trainer.steps.total", this, m -> m.totalSteps).description("Steps the current run will take").register(registry);
        Gauge.builder("petal.trainer.epoch", this, m -> m.epoch).description("Epoch in progress (1-based)").register(registry);
        Gauge.builder("petal.trainer.valid.accuracy", this, m -> m.validAccuracy)
                .description("Valid top-1 accuracy after the last epoch").register(registry);
        Gauge.builder("petal.trainer.running", this, m -> m.running).description("1 while a run is in progress").register(registry);
        checkpoints = Counter.builder("petal.trainer.checkpoints").description("Checkpoint versions published").register(registry);
        uploadRetries = Counter.builder("petal.trainer.checkpoint.upload.retries")
                .description("Failed checkpoint upload attempts that were retried").register(registry);
        deadLetters = Counter.builder("petal.trainer.dead.letters")
                .description("Dataset records sent to the dead-letter topic").register(registry);
        runsSucceeded = Counter.builder("petal.trainer.runs").tag("outcome", "succeeded").register(registry);
        runsFailed = Counter.builder("petal.trainer.runs").tag("outcome", "failed").register(registry);
    }

    public void runStarted() {
        running = 1;
        step = 0;
        imagesPerSecond = 0;
    }

    public void runEnded(boolean succeeded) {
        running = 0;
        imagesPerSecond = 0;
        (succeeded ? runsSucceeded : runsFailed).increment();
    }

    @Override
    public void onStep(int epoch, long step, long totalSteps, float loss, double imagesPerSecond) {
        this.epoch = epoch;
        this.step = step;
        this.totalSteps = totalSteps;
        this.loss = loss;
        this.imagesPerSecond = imagesPerSecond;
    }

    @Override
    public void onEpoch(int epoch, double trainLoss, double validAccuracy) {
        this.validAccuracy = validAccuracy;
    }

    @Override
    public void onPublished(CheckpointManifest manifest) {
        checkpoints.increment();
    }

    @Override
    public void onUploadRetry(String version, int attempt, Exception cause) {
        uploadRetries.increment();
    }

    @Override
    public void onDeadLettered(int count) {
        deadLetters.increment(count);
    }
}
