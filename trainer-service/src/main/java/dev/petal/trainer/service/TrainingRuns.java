package dev.petal.trainer.service;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.trainer.job.Recipe;
import dev.petal.trainer.job.TrainingJob;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/** Runs one training job at a time in the background, whoever asks (POST /train, auto-retrain), and reports it. */
@ApplicationScoped
public class TrainingRuns {
    private static final Logger LOG = Logger.getLogger(TrainingRuns.class);

    private final TrainingMetrics metrics;
    private final TrainerConfig config;
    private volatile CheckpointManifest lastPublished;
    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> new Thread(r, "petal-training-run"));
    private volatile Map<String, Object> state = Map.of("state", "idle");

    public TrainingRuns(TrainingMetrics metrics, TrainerConfig config) {
        this.metrics = metrics;
        this.config = config;
    }

    /** Starts {@code recipe} unless a run is in progress; returns the state either way. */
    public synchronized boolean start(Recipe recipe, String trigger) {
        if (isRunning()) {
            return false;
        }
        Map<String, Object> running = new LinkedHashMap<>();
        running.put("state", "running");
        running.put("trigger", trigger);
        running.put("recipe", recipe);
        state = running;
        metrics.runStarted();
        runner.submit(() -> run(recipe, trigger));
        return true;
    }

    public boolean isRunning() {
        return "running".equals(state.get("state"));
    }

    public Map<String, Object> state() {
        return state;
    }

    /** The manifest of the last version a run of this service published, if any. */
    public Optional<CheckpointManifest> lastPublished() {
        return Optional.ofNullable(lastPublished);
    }

    private void run(Recipe recipe, String trigger) {
        Map<String, Object> done = new LinkedHashMap<>();
        done.put("trigger", trigger);
        try {
            TrainingJob.Result result = new TrainingJob(recipe, config.kafka(), config.s3(), config.imageLimits(), metrics)
                    .signedWith(config.manifestSigner()).run();
            lastPublished = result.manifest();
            done.put("state", "done");
            done.put("version", result.manifest().version());
            done.put("metrics", result.manifest().metrics());
            metrics.runEnded(true);
        } catch (Exception e) {
            LOG.error("training run failed", e);
            done.put("state", "failed");
            done.put("error", String.valueOf(e.getMessage()));
            metrics.runEnded(false);
        }
        state = done;
    }

    @PreDestroy
    void stop() {
        runner.shutdownNow();
    }
}
