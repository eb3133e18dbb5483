package dev.petal.trainer.registry;

import dev.petal.common.records.DeadLetterReplay;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.ModelEvent;
import dev.petal.common.records.Topics;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * What the model lifecycle's commands and endpoints act on: the registry in object storage, whose moves are announced
 * on {@code petal.models} (a move whose event fails is still made: inference also polls the alias), and the dead-letter
 * replay. Opened per use and closed after it.
 */
public final class Lifecycle implements AutoCloseable {
    private final ObjectStore objects;
    private final KafkaClients kafka;
    private KafkaProducer<byte[], byte[]> producer;
    private final ModelRegistry registry;

    public Lifecycle(S3Settings s3, KafkaClients kafka) {
        this.objects = new ObjectStore(s3);
        this.kafka = kafka;
        this.registry = new ModelRegistry(objects, this::announce);
    }

    public ModelRegistry registry() {
        return registry;
    }

    public DeadLetterReplay deadLetters() {
        return new DeadLetterReplay(kafka, Topics.DLQ);
    }

    private synchronized void announce(AliasMove move) {
        try {
            if (producer == null) {
                producer = kafka.producer(Map.of(), new ByteArraySerializer(), new ByteArraySerializer());
            }
            producer.send(new ProducerRecord<>(Topics.MODELS, ModelEvent.aliasKey(move), ModelEvent.aliasValue(move))).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("petal: alias " + move.alias() + " of " + move.name() + " moved to " + move.to()
                    + ", but its petal.models event failed (" + e.getMessage() + "); inference finds it by polling");
        }
    }

    @Override
    public synchronized void close() {
        if (producer != null) {
            producer.close(java.time.Duration.ofSeconds(10));
        }
        objects.close();
    }
}
