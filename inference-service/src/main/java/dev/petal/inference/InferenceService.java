package dev.petal.inference;

import dev.petal.inference.model.ModelHolder;
import dev.petal.inference.model.ModelWatcher;
import dev.petal.inference.scoring.ScoringChannel;
import dev.petal.inference.scoring.TransactionalScoringLoop;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import org.jboss.logging.Logger;

/**
 * The long-running service, started by {@code serve} only: the model watcher at once, then scoring once the first
 * model is loaded (inputs wait in Kafka until there is a model to score them): the {@code images} channel at least
 * once, {@link TransactionalScoringLoop} exactly once. On shutdown the batch in flight finishes and commits, and the
 * group is left (Quarkus Messaging stops the channels; the loop is stopped here).
 */
@ApplicationScoped
public class InferenceService {
    private static final Logger LOG = Logger.getLogger(InferenceService.class);

    private final ModelWatcher watcher;
    private final ModelHolder holder;
    private final ScoringChannel scoring;
    private final TransactionalScoringLoop transactional;
    private final InferenceSettings settings;
    private final InferenceMetrics metrics;
    private volatile boolean started;
    private volatile boolean scoringStarted;
    private volatile boolean stopping;

    public InferenceService(ModelWatcher watcher, ModelHolder holder, ScoringChannel scoring, TransactionalScoringLoop transactional,
                            InferenceSettings settings, InferenceMetrics metrics) {
        this.watcher = watcher;
        this.holder = holder;
        this.scoring = scoring;
        this.transactional = transactional;
        this.settings = settings;
        this.metrics = metrics;
    }

    public synchronized void start() {
        if (started) {
            return;
        }
        started = true;
        watcher.start();
        Thread starter = new Thread(this::startScoringWhenAModelIsIn, "petal-scoring-start");
        starter.setDaemon(true);
        starter.start();
    }

    private void startScoringWhenAModelIsIn() {
        try {
            while (!stopping && !holder.awaitLoaded(500)) {
                // Inputs wait in Kafka until there is a model to score them.
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (!stopping) {
            LOG.debug("a model is loaded: scoring starts");
            startScoring();
        }
    }

    /** Starts scoring in the configured delivery mode (the benchmark calls it with its own model loaded). */
    public synchronized void startScoring() {
        if (settings.exactlyOnce()) {
            transactional.start();
        } else {
            scoring.start();
        }
        scoringStarted = true;
    }

    public boolean isStarted() {
        return started;
    }

    /** Scoring has started: a model is loaded and the input consumer subscribed. */
    public boolean isScoring() {
        return scoringStarted;
    }

    /** False once the exactly-once loop has died (the channels report their own health). */
    public boolean isHealthy() {
        return transactional.isHealthy();
    }

    void onShutdown(@Observes ShutdownEvent event) {
        stopping = true;
        scoring.drain(Duration.ofSeconds(60));
        transactional.stop();
        watcher.stop();
        if (started) {
            LOG.infof("stopping after %.0f predictions", metrics.predictions());
        }
    }
}
