package dev.petal.trainer.service;

import dev.petal.trainer.job.Recipe;
import dev.petal.trainer.job.TrainingJob;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * Runs one training job at a time in the background, whoever asks (POST /train, auto-retrain), and reports
 * it. Whatever a run throws, errors included, it ends as {@code failed} and the service is idle again; an
 * error the JVM may not recover from (out of memory, a stack overflow) also turns liveness DOWN
 * ({@link TrainerLiveness}), so that the orchestrator restarts the process.
 */
@ApplicationScoped
public class TrainingRuns {
    private static final Logger LOG = Logger.getLogger(TrainingRuns.class);

    /** Runs one job to its end. */
    interface Job {
        TrainingJob.Result run(Recipe recipe) throws Exception;
    }

    private final TrainingMetrics metrics;
    private final Job job;
    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> new Thread(r, "petal-training-run"));
    private volatile Map<String, Object> state = Map.of("state", "idle");
    private volatile String fatal;

    @Inject
    public TrainingRuns(TrainingMetrics metrics) {
        this(metrics, recipe -> new TrainingJob(recipe, TrainerConfig.kafka(), TrainerConfig.s3(), TrainerConfig.imageLimits(), metrics)
                .signedWith(TrainerConfig.manifestSigner()).run());
    }

    TrainingRuns(TrainingMetrics metrics, Job job) {
        this.metrics = metrics;
        this.job = job;
    }

    /** Starts {@code recipe} unless a run is in progress; returns whether it started. */
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

    /** Why the JVM should not go on (an error a run hit), or null. */
    public String fatal() {
        return fatal;
    }

    private void run(Recipe recipe, String trigger) {
        Map<String, Object> done = new LinkedHashMap<>();
        done.put("trigger", trigger);
        try {
            TrainingJob.Result result = job.run(recipe);
            done.put("state", "done");
            done.put("version", result.manifest().version());
            done.put("metrics", result.manifest().metrics());
            metrics.runEnded(true);
        } catch (Throwable e) {
            LOG.error("training run failed", e);
            done.put("state", "failed");
            done.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
            if (e instanceof VirtualMachineError) {
                fatal = e.getClass().getSimpleName() + " during a training run: restart the trainer";
            }
            try {
                metrics.runEnded(false);
            } catch (Throwable ignored) {
                // the run's end is recorded in the state below whatever the metrics do
            }
        } finally {
            if (!done.containsKey("state")) {
                done.put("state", "failed");
            }
            state = done;
        }
    }

    @PreDestroy
    void stop() {
        runner.shutdownNow();
    }
}
