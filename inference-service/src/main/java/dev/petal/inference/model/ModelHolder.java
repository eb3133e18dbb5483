package dev.petal.inference.model;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.inference.Classifier;
import dev.petal.common.inference.ModelId;
import dev.petal.common.model.Precision;
import dev.petal.common.model.ServingRuntime;
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
        final Served served;
        final java.util.function.Consumer<Classifier> whenRetired;
        int users;
        boolean retired;

        Slot(Classifier classifier, Served served, java.util.function.Consumer<Classifier> whenRetired) {
            this.classifier = classifier;
            this.served = served;
            this.whenRetired = whenRetired;
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

    /**
     * What {@code GET /model} describes: the version, its manifest, and the precision and runtime its forward
     * computes in. Not the checkpoint's weights: the classifier holds them in native memory, and keeping the
     * downloaded bytes too cost a heap the size of the model.
     */
    public record Served(ModelId id, CheckpointManifest manifest, Precision precision, ServingRuntime runtime) {}

    /** Makes {@code next}, loaded from a checkpoint with {@code manifest}, the model for every batch that starts from now on. */
    public synchronized void swap(Classifier next, CheckpointManifest manifest) {
        swap(next, manifest, Classifier::close);
    }

    /**
     * As {@link #swap(Classifier, CheckpointManifest)}, but once {@code next} is swapped out in turn and its last batch is
     * done, it is handed to {@code whenRetired} (which keeps it warm, or closes it) instead of closed.
     */
    public synchronized void swap(Classifier next, CheckpointManifest manifest, java.util.function.Consumer<Classifier> whenRetired) {
        Slot old = current;
        current = new Slot(next, new Served(next.id(), manifest, next.precision(), next.runtime()), whenRetired);
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
    public synchronized Optional<Served> served() {
        return current == null ? Optional.empty() : Optional.of(current.served);
    }

    public synchronized Optional<String> version() {
        return current == null ? Optional.empty() : Optional.of(current.served.id().version());
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
            LOG.debugf("retiring model %s/%s", slot.served.id().name(), slot.served.id().version());
            slot.whenRetired.accept(slot.classifier);
        }
    }
}
