package dev.petal.service.messaging;

import dev.petal.common.records.DeadLetter;
import dev.petal.common.records.Topics;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * The {@code dead-letters} channel every service declares ({@code petal.dlq}): sends a {@link DeadLetter} and
 * completes when the broker has it. Its emitter is connected on first use, once the channels are wired.
 */
@ApplicationScoped
public class DeadLetterChannel {
    @Inject
    @Channel("dead-letters")
    MutinyEmitter<ProducerRecord<byte[], byte[]>> emitter;

    @ConfigProperty(name = "mp.messaging.outgoing.dead-letters.topic", defaultValue = Topics.DLQ)
    String topic;

    /** The channel's topic, which every dead letter sent here names. */
    public String topic() {
        return topic;
    }

    public Uni<Void> send(ProducerRecord<byte[], byte[]> deadLetter) {
        return emitter.sendMessage(Message.of(deadLetter));
    }
}
