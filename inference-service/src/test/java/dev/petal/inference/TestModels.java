package dev.petal.inference;

import ai.djl.ndarray.NDManager;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.WeightsFile;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ModelParameters;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Stem;
import dev.petal.common.records.ModelEvent;
import dev.petal.common.records.Topics;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.storage.ObjectStore;
import java.awt.image.BufferedImage;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import javax.imageio.ImageIO;

/** Tiny models and images for tests: ResNet-18 with the small stem at 16 px, four shape labels. */
public final class TestModels {
    public static final int SIZE = 16;
    public static final ModelSpec SPEC = new ModelSpec(Architecture.RESNET18, SyntheticShapes.LABELS, SIZE, Stem.SMALL, Normalization.IMAGENET);

    private TestModels() {}

    /** Freshly initialised weights (safetensors); a different seed gives different weights. */
    public static synchronized byte[] weights(int seed) {
        PyTorchEngine.get().setRandomSeed(seed);
        try (NDManager manager = PyTorchEngine.get().newBaseManager();
             ModelParameters params = ModelParameters.initialised(SPEC.plan(), manager, false)) {
            return WeightsFile.toBytes(params);
        }
    }

    public static CheckpointManifest draft(String name, String version) {
        return new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, name, version, null, Instant.now().toString(),
                SPEC, Map.of("seed", 1), 0, 0, Map.of(), null, null, null);
    }

    /** A checkpoint folder as the store would hold it: weights.safetensors and manifest.json with its sha256. */
    public static CheckpointManifest writeDirectory(Path dir, String name, String version, byte[] weights) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(CheckpointManifest.WEIGHTS_FILE), weights);
        CheckpointManifest manifest = draft(name, version).withFiles(Map.of(CheckpointManifest.WEIGHTS_FILE,
                new CheckpointManifest.FileEntry(weights.length, dev.petal.common.checkpoint.Sha256.hex(weights))));
        Files.write(dir.resolve(CheckpointManifest.MANIFEST_FILE), CheckpointStore.toJson(manifest));
        return manifest;
    }

    /**
     * Points {@code champion} of {@code name} at {@code version}, as {@code ./petal model promote --force} does, and announces
     * the move on {@code petal.models} through {@code producer} (null: not announced; inference then finds it by polling).
     */
    public static AliasMove promote(ObjectStore objects, KafkaProducer<byte[], byte[]> producer, String name, String version) {
        return moveAlias(objects, producer, name, ModelRegistry.CHAMPION, version);
    }

    /** Points {@code alias} of {@code name} at {@code version} and announces it (see {@link #promote}). */
    public static AliasMove moveAlias(ObjectStore objects, KafkaProducer<byte[], byte[]> producer, String name, String alias,
                                      String version) {
        return new ModelRegistry(objects, move -> {
            if (producer != null) {
                try {
                    producer.send(new ProducerRecord<>(Topics.MODELS, ModelEvent.aliasKey(move), ModelEvent.aliasValue(move))).get();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }).move(name, alias, version, AliasMove.PROMOTE, "test", "test", true, null);
    }

    /** A generated 40 px shape image, PNG-encoded. */
    public static byte[] png(long seed) {
        return encode(new SyntheticShapes(40, seed).next().image(), "png");
    }

    public static byte[] jpeg(long seed) {
        return encode(new SyntheticShapes(40, seed).next().image(), "jpg");
    }

    static byte[] encode(BufferedImage image, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(image, format, out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
