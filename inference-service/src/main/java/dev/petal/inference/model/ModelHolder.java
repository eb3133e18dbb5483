package dev.petal.inference.model;

import dev.petal.common.inference.Classifier;
import dev.petal.common.inference.LoadedModel;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The model being served. A batch {@link #acquire() leases} the current model and keeps it until
 * it is done, so a swap never changes the model under a running batch: the old model is closed
 * when its last lease ends.
 */
@ApplicationScoped
public class ModelHolder {
    private static final Logger LOG = Logger.getLogger(ModelHolder.class);

    /** A model with its count of running batches. */
    private static final class Slot {
        final Classifier classifier;
        final LoadedModel source;
        int users;
        boolean retired;

        Slot(Classifier classifier, LoadedModel source) {
            this.classifier = classifier;
            this.source = source;
        }
    }

    /** One batch's hold on a model; closing it lets a retired model go. */
    public final class Lease implements AutoCloseable {
        private final Slot slot;
        private boolean closed;

        private Lease(Slot slot) {
            this.slot = slot;
        }

        public Classifier classifier() {
            return slot.classifier;
        }

        @Override
        public void close() {
            synchronized (ModelHolder.this) {
                if (!closed) {
                    closed = true;
                    slot.users--;
                    closeIfDone(slot);
                }
            }
        }
    }

    private Slot current;

    /** The current model, held until the lease closes; empty before any model is loaded. */
    public synchronized Optional<Lease> acquire() {
        if (current == null) {
            return Optional.empty();
        }
        current.users++;
        return Optional.of(new Lease(current));
    }

    /** Makes {@code next} the model for every batch that starts from now on. */
    public synchronized void swap(Classifier next, LoadedModel source) {
        Slot old = current;
        current = new Slot(next, source);
        notifyAll();
        if (old != null) {
            old.retired = true;
            closeIfDone(old);
        }
    }

    public synchronized boolean isLoaded() {
        return current != null;
    }

    /** The loaded model's description, for {@code GET /model}. */
    public synchronized Optional<LoadedModel> loaded() {
        return current == null ? Optional.empty() : Optional.of(current.source);
    }

    public synchronized Optional<String> version() {
        return current == null ? Optional.empty() : Optional.of(current.source.id().version());
    }

    /** Waits up to {@code millis} for a model; true when one is loaded. */
    public synchronized boolean awaitLoaded(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (current == null) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    private void closeIfDone(Slot slot) {
        if (slot.retired && slot.users == 0) {
            LOG.infof("closing model %s/%s", slot.source.id().name(), slot.source.id().version());
            slot.classifier.close();
        }
    }
}
