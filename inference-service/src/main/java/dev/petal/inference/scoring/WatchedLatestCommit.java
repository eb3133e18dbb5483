package dev.petal.inference.scoring;

import io.quarkus.arc.Unremovable;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaConnectorIncomingConfiguration;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import io.smallrye.reactive.messaging.kafka.commit.ContextHolder;
import io.smallrye.reactive.messaging.kafka.commit.KafkaCommitHandler;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * The commit strategy {@value #STRATEGY} of the {@code images} channel: the connector's {@code latest} (each
 * acknowledged batch's offsets committed at once, asynchronously, on the polling thread), plus what {@code latest}
 * leaves out: a failed commit is tried again every second until it succeeds or a newer offset of that partition
 * replaces it ({@code latest} logs the failure of each one and drops it, so a partition that receives nothing more
 * stays behind), and an offset waiting for the broker is known to {@link StallWatch} (readiness, metrics, one log
 * line per interval past {@code petal.inference.stall-timeout}). A partition revoked from this replica is no longer
 * its to commit: what waited for it is forgotten.
 */
@ApplicationScoped
@Unremovable // looked up by name by the connector, never injected
@Identifier(WatchedLatestCommit.STRATEGY)
public class WatchedLatestCommit implements KafkaCommitHandler.Factory {
    public static final String STRATEGY = "petal-latest";
    private static final Logger LOG = Logger.getLogger(WatchedLatestCommit.class);
    private static final long RETRY_MS = 1000;

    @Inject
    StallWatch stalls;

    @Override
    public KafkaCommitHandler create(KafkaConnectorIncomingConfiguration config, Vertx vertx, KafkaConsumer<?, ?> consumer,
                                     BiConsumer<Throwable, Boolean> reportFailure) {
        int timeout = config.config().getOptionalValue(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.class).orElse(60000);
        return new Handler(vertx, timeout, consumer, stalls);
    }

    static String waiting(TopicPartition tp) {
        return "offsets of " + tp;
    }

    /** Touches its maps on the channel's context only (one thread), as {@code latest} does. */
    static final class Handler extends ContextHolder implements KafkaCommitHandler {
        private final KafkaConsumer<?, ?> consumer;
        private final StallWatch stalls;
        /** The newest offset asked for per partition, and whether the broker took it. */
        private final Map<TopicPartition, Long> requested = new HashMap<>();
        private final Map<TopicPartition, Long> committed = new HashMap<>();

        Handler(Vertx vertx, int timeout, KafkaConsumer<?, ?> consumer, StallWatch stalls) {
            super(vertx, timeout);
            this.consumer = consumer;
            this.stalls = stalls;
        }

        @Override
        public <K, V> Uni<Void> handle(IncomingKafkaRecord<K, V> record) {
            runOnContext(() -> {
                TopicPartition tp = new TopicPartition(record.getTopic(), record.getPartition());
                long next = record.getOffset() + 1;
                Long last = requested.get(tp);
                if (last == null || last < next) {
                    requested.put(tp, next);
                    stalls.waiting(waiting(tp));
                    commit(tp, next);
                }
            });
            return Uni.createFrom().voidItem().runSubscriptionOn(record::runOnMessageContext);
        }

        private void commit(TopicPartition tp, long offset) {
            consumer.commitAsync(Map.of(tp, new OffsetAndMetadata(offset, null))).subscribe().with(
                    ok -> runOnContext(() -> committed(tp, offset)),
                    failure -> runOnContext(() -> failed(tp, offset, failure)));
        }

        private void committed(TopicPartition tp, long offset) {
            committed.merge(tp, offset, Math::max);
            Long wanted = requested.get(tp);
            if (wanted == null || wanted <= offset) {
                stalls.done(waiting(tp));
            }
        }

        private void failed(TopicPartition tp, long offset, Throwable failure) {
            Long wanted = requested.get(tp);
            if (wanted == null || wanted != offset) {
                return; // revoked, or a newer offset's commit is on its way (and covers this one)
            }
            stalls.failed(waiting(tp), failure);
            LOG.debugf("could not commit %s at %d (%s); trying again in %d ms", tp, offset, failure.toString(), RETRY_MS);
            vertx.setTimer(RETRY_MS, id -> runOnContext(() -> {
                Long still = requested.get(tp);
                Long done = committed.get(tp);
                if (still != null && still == offset && (done == null || done < offset)) {
                    commit(tp, offset);
                }
            }));
        }

        @Override
        public void partitionsRevoked(Collection<TopicPartition> partitions) {
            forget(partitions);
        }

        @Override
        public void partitionsAssigned(Collection<TopicPartition> partitions) {
            forget(partitions); // fresh positions: nothing of an earlier ownership waits
        }

        private void forget(Collection<TopicPartition> partitions) {
            Runnable drop = () -> partitions.forEach(tp -> {
                requested.remove(tp);
                committed.remove(tp);
                stalls.forget(waiting(tp));
            });
            if (context == null) {
                drop.run();
            } else {
                runOnContext(drop);
            }
        }

        @Override
        public void terminate(boolean graceful) {
            requested.keySet().forEach(tp -> stalls.forget(waiting(tp)));
        }
    }
}
