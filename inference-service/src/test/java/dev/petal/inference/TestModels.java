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
import dev.petal.testing.TestImages;
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

    /** A draft whose spec names {@code labels} in output order (the weights' order is {@link #SPEC}'s). */
    public static CheckpointManifest draft(String name, String version, java.util.List<String> labels) {
        CheckpointManifest d = draft(name, version);
        return new CheckpointManifest(d.formatVersion(), d.name(), d.version(), d.parentVersion(), d.createdAt(), SPEC.withLabels(labels),
                d.recipe(), d.epoch(), d.step(), d.metrics(), d.dataset(), d.files(), null);
    }

    /** Freshly initialised weights (safetensors); a different seed gives different weights. */
    public static synchronized byte[] weights(int seed) {
        PyTorchEngine.get().setRandomSeed(seed);
        try (NDManager manager = PyTorchEngine.get().newBaseManager();
             ModelParameters params = ModelParameters.initialised(SPEC.plan(), manager, false)) {
            return WeightsFile.toBytes(params);
        }
    }

    private static byte[] trained;

    /**
     * Weights of a model trained here for 40 steps of 32 generated shapes (ResNet-18, small stem, 16 px): far better than
     * chance on the shapes {@link #png} draws. Trained once per JVM.
     */
    public static synchronized byte[] trainedWeights() {
        if (trained == null) {
            PyTorchEngine.get().setRandomSeed(3);
            dev.petal.common.image.Preprocessor pre = SPEC.preprocessor();
            SyntheticShapes shapes = new SyntheticShapes(40, 1);
            int steps = 40;
            int batch = 32;
            dev.petal.common.training.TrainingSettings settings = new dev.petal.common.training.TrainingSettings(2e-3f, 1e-4f, 10, steps,
                    7, 0f, true, dev.petal.common.training.TrainingSettings.WARMUP_START_FACTOR);
            try (dev.petal.common.training.ModelSession session = new dev.petal.common.training.ModelSession(SPEC, settings,
                    ai.djl.Device.cpu(), null, dev.petal.common.model.Precision.FP32)) {
                for (int step = 0; step < steps; step++) {
                    float[] pixels = new float[batch * pre.tensorLength()];
                    int[] labels = new int[batch];
                    for (int i = 0; i < batch; i++) {
                        SyntheticShapes.Sample s = shapes.next();
                        pre.toTensor(s.image(), pixels, i * pre.tensorLength());
                        labels[i] = s.label();
                    }
                    session.trainStep(pixels, labels);
                }
                trained = WeightsFile.toBytes(session.parameters());
            }
        }
        return trained;
    }

    /** The int8 calibration of {@code weights} ({@link #SPEC}) on 16 generated shapes, as the trainer measures one. */
    public static dev.petal.common.model.ActivationRanges calibration(byte[] weights) {
        dev.petal.common.image.Preprocessor pre = SPEC.preprocessor();
        int batch = 16;
        float[] pixels = new float[batch * pre.tensorLength()];
        SyntheticShapes shapes = new SyntheticShapes(SIZE, 11);
        for (int i = 0; i < batch; i++) {
            pre.toTensor(shapes.next().image(), pixels, i * pre.tensorLength());
        }
        try (NDManager manager = PyTorchEngine.get().newBaseManager();
             ModelParameters params = WeightsFile.read(SPEC.plan(), manager, new java.io.ByteArrayInputStream(weights));
             dev.petal.common.model.Int8Calibration calibration = dev.petal.common.model.Int8Calibration.of(params, 1)) {
            calibration.add(pixels, batch);
            return calibration.ranges();
        }
    }

    /** A 40 px shape image of a known label, PNG-encoded. */
    public static SyntheticShapes.Sample shape(long seed) {
        return new SyntheticShapes(40, seed).next();
    }

    public static CheckpointManifest draft(String name, String version) {
        return new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, name, version, null, Instant.now().toString(),
                SPEC, Map.of("seed", 1), 0, 0, Map.of(), null, null, null);
    }

    /** A checkpoint folder as the store would hold it: weights.safetensors and manifest.json with its sha256. */
    public static CheckpointManifest writeDirectory(Path dir, String name, String version, byte[] weights) throws IOException {
        return writeDirectory(dir, name, version, weights, null);
    }

    /** As above, the manifest carrying {@code ranges} as its int8 calibration (null: none). */
    public static CheckpointManifest writeDirectory(Path dir, String name, String version, byte[] weights,
            dev.petal.common.model.ActivationRanges ranges) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(CheckpointManifest.WEIGHTS_FILE), weights);
        CheckpointManifest d = draft(name, version);
        CheckpointManifest manifest = new CheckpointManifest(d.formatVersion(), d.name(), d.version(), d.parentVersion(), d.createdAt(),
                d.model(), d.recipe(), d.epoch(), d.step(), d.metrics(), d.dataset(), Map.of(CheckpointManifest.WEIGHTS_FILE,
                new CheckpointManifest.FileEntry(weights.length, dev.petal.common.checkpoint.Sha256.hex(weights))), null, ranges);
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
        return TestImages.encode(image, format);
    }

}
