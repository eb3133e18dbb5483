package dev.petal.inference;

import dev.petal.inference.model.ModelWatcher;
import dev.petal.inference.scoring.ScoringLoop;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * The long-running service: the model watcher and the scoring loop, started by {@code serve} only,
 * and stopped on shutdown so that the batch in flight finishes and commits.
 */
@ApplicationScoped
public class InferenceService {
    private final ModelWatcher watcher;
    private final ScoringLoop loop;

    public InferenceService(ModelWatcher watcher, ScoringLoop loop) {
        this.watcher = watcher;
        this.loop = loop;
    }

    public void start() {
        watcher.start();
        loop.start();
    }

    public boolean isStarted() {
        return loop.isStarted();
    }

    public void stop() {
        loop.stop();
        watcher.stop();
    }

    void onShutdown(@Observes ShutdownEvent event) {
        stop();
    }
}
