package dev.petal.tools.soak;

import ai.djl.ndarray.NDManager;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.WeightsFile;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.model.ModelParameters;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.records.ModelEvent;
import dev.petal.common.records.Topics;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.storage.ObjectStore;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes model versions the way the trainer does: the weights and the manifest to object storage
 * ({@link CheckpointStore#publish}, which also moves {@code latest}), then one {@code petal.models}
 * event ({@link ModelEvent}, as the trainer's), then {@code champion} moved to it (as the gate does for a better version)
 * and that move announced. Each version is a freshly initialised network from its own seed,
 * so every version has different weights (and a different sha256).
 */
public final class SoakModels {
    private final CheckpointStore store;
    private final KafkaProducer<byte[], byte[]> producer;
    private final String name;
    private final ModelSpec spec;
    private String parent;

    private final ModelRegistry registry;

    public SoakModels(CheckpointStore store, ObjectStore objects, KafkaProducer<byte[], byte[]> producer, String name, ModelSpec spec) {
        this.store = store;
        this.registry = new ModelRegistry(objects, move -> {
            try {
                producer.send(new ProducerRecord<>(Topics.MODELS, ModelEvent.aliasKey(move), ModelEvent.aliasValue(move)))
                        .get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("could not announce the champion's move to " + move.to(), e);
            }
        });
        this.producer = producer;
        this.name = name;
        this.spec = spec;
    }

    /** Weights of a fresh network initialised from {@code seed} (safetensors). */
    public byte[] weights(long seed) {
        synchronized (SoakModels.class) {
            PyTorchEngine.get().setRandomSeed((int) seed);
            try (NDManager manager = PyTorchEngine.get().newBaseManager();
                 ModelParameters params = ModelParameters.initialised(spec.plan(), manager, false)) {
                return WeightsFile.toBytes(params);
            }
        }
    }

    /** Stores {@code weights} as {@code version}, moves {@code latest} and {@code champion} and announces both; returns the manifest. */
    public synchronized CheckpointManifest publish(String version, byte[] weights, long seed) throws Exception {
        CheckpointManifest draft = new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, name, version, parent,
                Instant.now().toString(), spec, Map.of("source", "petal soak", "seed", seed), 0, 0, Map.of(),
                null, null, null);
        CheckpointManifest manifest = store.publish(draft, Map.of(CheckpointManifest.WEIGHTS_FILE, weights));
        producer.send(new ProducerRecord<>(Topics.MODELS, ModelEvent.key(manifest), ModelEvent.value(manifest))).get(60, TimeUnit.SECONDS);
        registry.move(name, ModelRegistry.CHAMPION, version, AliasMove.PROMOTE, "soak: the next version", "soak", true, null);
        parent = version;
        return manifest;
    }
}
