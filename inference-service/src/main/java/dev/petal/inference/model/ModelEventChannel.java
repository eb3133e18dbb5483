package dev.petal.inference.model;

import io.smallrye.reactive.messaging.ChannelRegistry;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * The {@code model-events} channel: {@code petal.models} read from its end in a consumer group of this replica's own,
 * so that every replica sees every event, and handed to the {@link ModelWatcher}, which loads the version announced.
 * The channel starts paused and is subscribed only when the watcher starts ({@code serve}); events published before
 * that are covered by the watcher's poll of {@code latest}.
 */
@ApplicationScoped
public class ModelEventChannel {
    static final String MODEL_EVENTS = "model-events";

    private final ChannelRegistry channels;
    private volatile ModelWatcher watcher;

    public ModelEventChannel(ChannelRegistry channels) {
        this.channels = channels;
    }

    synchronized void start(ModelWatcher watcher) {
        if (this.watcher == null) {
            this.watcher = watcher;
            channels.getPausable(MODEL_EVENTS).resume();
        }
    }

    /** Loading a version takes seconds: on a worker thread, one event at a time. */
    @Incoming(MODEL_EVENTS)
    @Blocking(ordered = true)
    public void onEvent(ConsumerRecord<byte[], byte[]> event) {
        ModelWatcher current = watcher;
        if (current != null) {
            current.onEvent(event);
        }
    }
}
