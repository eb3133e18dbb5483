package dev.petal.trainer.service;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.records.UntrustedText;
import dev.petal.trainer.job.Recipe;
import dev.petal.trainer.job.UnreadableWeightsException;
import dev.petal.trainer.job.TrainingJob;
import dev.petal.trainer.job.TrainingListener;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
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
    private final RunProgress progress;
    private final CacheBudget cacheBudget;
    private final Job job;
    private volatile CheckpointManifest lastPublished;
    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> new Thread(r, "petal-training-run"));
    private volatile Map<String, Object> state = Map.of("state", "idle");
    private volatile String fatal;

    @Inject
    public TrainingRuns(TrainingMetrics metrics, RunProgress progress, TrainerConfig config) {
        this(metrics, progress, config.cacheBudget(), recipe -> new TrainingJob(recipe, config.kafka(), config.s3(), config.imageLimits(),
                TrainingListener.all(metrics, progress)).signedWith(config.manifestSigner()).maxLabels(config.settings().maxLabels())
                .gate(config.gate()).run());
    }

    TrainingRuns(TrainingMetrics metrics, CacheBudget cacheBudget, Job job) {
        this(metrics, new RunProgress(), cacheBudget, job);
    }

    TrainingRuns(TrainingMetrics metrics, RunProgress progress, CacheBudget cacheBudget, Job job) {
        this.metrics = metrics;
        this.progress = progress;
        this.cacheBudget = cacheBudget;
        this.job = job;
    }

    /**
     * Starts {@code recipe} unless a run is in progress; returns whether it started. Its image cache is held to
     * {@link CacheBudget}, whoever asked.
     */
    public synchronized boolean start(Recipe asked, String trigger) {
        if (isRunning()) {
            return false;
        }
        Recipe recipe = cacheBudget.bounded(asked);
        Map<String, Object> running = new LinkedHashMap<>();
        running.put("state", "running");
        running.put("trigger", trigger);
        running.put("recipe", recipe);
        state = running;
        progress.reset();
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

    /** {@link #state()} with the run's {@link RunProgress} under {@code progress} (after the service's first run). */
    public Map<String, Object> stateWithProgress() {
        Map<String, Object> progressNow = progress.toMap();
        if (progressNow.isEmpty()) {
            return state;
        }
        Map<String, Object> withProgress = new LinkedHashMap<>(state);
        withProgress.put("progress", progressNow);
        return withProgress;
    }

    /** The manifest of the last version a run of this service published, if any. */
    public Optional<CheckpointManifest> lastPublished() {
        return Optional.ofNullable(lastPublished);
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
            lastPublished = result.manifest();
            done.put("state", "done");
            done.put("version", result.manifest().version());
            done.put("metrics", result.manifest().metrics());
            if (result.gate() != null) {
                done.put("gate", result.gate());
            }
            metrics.runEnded(true);
        } catch (Throwable e) {
            LOG.error("training run failed", e);
            done.put("state", "failed");
            done.put("error", publicReason(e));
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

    /**
     * Why a run failed, for GET /train: one sanitised line, and for initial weights only which ones failed, since
     * the reader's detail quotes the file. The log has the whole story.
     */
    static String publicReason(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof UnreadableWeightsException unreadable) {
                return unreadable.summary();
            }
        }
        return UntrustedText.oneLine(failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage(), 400);
    }

    @PreDestroy
    void stop() {
        runner.shutdownNow();
    }
}
