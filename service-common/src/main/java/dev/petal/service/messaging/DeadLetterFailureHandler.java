package dev.petal.service.messaging;

import dev.petal.common.records.DeadLetter;
import io.quarkus.arc.Unremovable;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaConnectorIncomingConfiguration;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import io.smallrye.reactive.messaging.kafka.fault.KafkaFailureHandler;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.reactive.messaging.Metadata;
import org.jboss.logging.Logger;

/**
 * The connector's failure strategy {@value #STRATEGY} ({@code mp.messaging.incoming.<channel>.failure-strategy}): a
 * nacked record becomes the contract's dead letter ({@link DeadLetter}: the input's key, value and headers untouched,
 * plus {@code error-class}, {@code error-reason}, {@code source-topic}, {@code source-partition},
 * {@code source-offset}), sent through the {@code dead-letters} channel ({@link DeadLetterChannel}), and then counts
 * as processed, so its offset commits. The connector's own {@code dead-letter-queue} strategy writes headers of other
 * names ({@code dead-letter-reason}, ...), which the contract's readers do not know.
 */
@ApplicationScoped
@Unremovable // looked up by name by the connector, never injected
@Identifier(DeadLetterFailureHandler.STRATEGY)
public class DeadLetterFailureHandler implements KafkaFailureHandler.Factory {
    public static final String STRATEGY = "petal-dead-letter";
    private static final Logger LOG = Logger.getLogger(DeadLetterFailureHandler.class);

    /** A client proxy: the channel's emitter is connected on the first dead letter, not while the channels are wired. */
    @Inject
    DeadLetterChannel deadLetters;

    @Override
    public KafkaFailureHandler create(KafkaConnectorIncomingConfiguration config, Vertx vertx, KafkaConsumer<?, ?> consumer,
                                      BiConsumer<Throwable, Boolean> reportFailure) {
        return new KafkaFailureHandler() {
            @Override
            public <K, V> Uni<Void> handle(IncomingKafkaRecord<K, V> record, Throwable failure, Metadata metadata) {
                DeadLetterReason why = DeadLetterReason.of(failure);
                LOG.warnf("dead-lettering %s-%d@%d (%s): %s", record.getTopic(), record.getPartition(), record.getOffset(),
                        why.errorClass(), why.getMessage());
                ProducerRecord<byte[], byte[]> dead = DeadLetter.of(deadLetters.topic(), record.getTopic(), record.getPartition(),
                        record.getOffset(), bytes(record.getKey()), bytes(record.getPayload()), record.getHeaders(),
                        why.errorClass(), why.getMessage());
                return deadLetters.send(dead)
                        .chain(() -> Uni.createFrom().completionStage(record.ack()));
            }
        };
    }

    private static byte[] bytes(Object value) {
        return value == null ? null : (byte[]) value;
    }
}
