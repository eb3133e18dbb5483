package dev.petal.common.inference;

import dev.petal.common.checkpoint.CheckpointIntegrityException;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.TorchvisionWeightsFile;
import dev.petal.common.checkpoint.WeightsFile;
import dev.petal.common.checkpoint.SafeTensors;
import dev.petal.common.checkpoint.TorchvisionWeights;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.model.ModelParameters;
import dev.petal.common.model.ModelSpec;
import ai.djl.ndarray.NDManager;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Where a model comes from: a version in the checkpoint store, a local folder holding
 * {@code manifest.json} and {@code weights.params}, or an {@code s3://bucket/models/<name>[/<version>]}
 * location. Every file is checked against the sha256 its manifest lists before it is used.
 */
public final class ModelSource {
    private ModelSource() {}

    /** Downloads one version's weights to a temporary file and verifies them (size and sha256). */
    public static LoadedModel fromStore(CheckpointStore store, String name, String version) {
        CheckpointManifest manifest = store.manifest(name, version);
        ModelSpec spec = spec(manifest);
        Path weights = LoadedModel.temporaryWeightsFile();
        try {
            store.downloadWeights(manifest, weights);
        } catch (RuntimeException e) {
            deleteQuietly(weights, e);
            throw e;
        }
        return new LoadedModel(idOf(manifest), spec, weights, manifest, true);
    }

    /** A folder laid out like one version in the store: {@code manifest.json} and the files it lists. */
    public static LoadedModel fromDirectory(Path dir) {
        Path manifestFile = dir.resolve(CheckpointManifest.MANIFEST_FILE);
        CheckpointManifest manifest;
        try {
            manifest = CheckpointManifest.parse(Files.readAllBytes(manifestFile), manifestFile.toString());
        } catch (IOException e) {
            throw new CheckpointIntegrityException(manifestFile + " is missing or unreadable: " + e.getMessage(), e);
        }
        CheckpointManifest.FileEntry entry = manifest.requireWeightsEntry(manifestFile.toString());
        Path weights = dir.resolve(CheckpointManifest.WEIGHTS_FILE);
        try {
            entry.verify(weights.toString(), Files.size(weights), Sha256.hex(weights));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the weights in " + dir, e);
        }
        return new LoadedModel(idOf(manifest), spec(manifest), weights, manifest, false);
    }

    /**
     * {@code s3://bucket/models/<name>/<version>}, or {@code s3://bucket/models/<name>} for its latest
     * version, read with {@code settings} (its bucket replaced by the one in the location).
     */
    public static LoadedModel fromS3(String location, S3Settings settings) {
        String rest = location.substring("s3://".length());
        String[] parts = rest.split("/");
        if (parts.length < 3 || parts.length > 4 || !parts[1].equals("models")) {
            throw new IllegalArgumentException("expected s3://bucket/models/<name>[/<version>], got " + location);
        }
        S3Settings here = new S3Settings(settings.endpoint(), settings.region(), parts[0], settings.pathStyle(),
                settings.accessKey(), settings.secretKey());
        try (ObjectStore objects = new ObjectStore(here)) {
            CheckpointStore store = new CheckpointStore(objects);
            String name = parts[2];
            String version = parts.length == 4 ? parts[3]
                    : store.latestVersion(name).orElseThrow(() -> new IllegalArgumentException(
                            "no version of model '" + name + "' is published in bucket " + parts[0]));
            return fromStore(store, name, version);
        }
    }

    /**
     * A torchvision-named weights file, {@code .safetensors} or torch.save's {@code .pth} (an exported
     * Petal model, or torchvision's own weights): it carries no labels or preprocessing, so {@code spec}
     * says them. The version is the file name; the sha256 is the file's.
     */
    public static LoadedModel fromSafeTensors(Path file, ModelSpec spec) {
        SafeTensors tensors;
        String sha256;
        try {
            tensors = TorchvisionWeightsFile.read(file);
            sha256 = Sha256.hex(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        Path weights = written(spec, net -> TorchvisionWeights.load(net, tensors, false));
        String name = TorchvisionWeightsFile.stem(file);
        return new LoadedModel(new ModelId(name, name, sha256), spec, weights, null, true);
    }

    /**
     * A model of {@code spec} with freshly initialised weights, in a temporary file: for benchmarks, whose
     * speed does not depend on the weights' values.
     */
    public static LoadedModel freshlyInitialised(ModelSpec spec, ModelId id) {
        return new LoadedModel(id, spec, written(spec, net -> {}), null, true);
    }

    /** The network of {@code spec}, initialised, then {@code fill}ed, written to a temporary weights file. */
    private static Path written(ModelSpec spec, Consumer<ModelParameters> fill) {
        Path weights = LoadedModel.temporaryWeightsFile();
        try (NDManager manager = PyTorchEngine.get().newBaseManager();
             ModelParameters params = ModelParameters.initialised(spec.plan(), manager, false);
             OutputStream out = Files.newOutputStream(weights)) {
            fill.accept(params);
            WeightsFile.write(params, out);
        } catch (IOException e) {
            deleteQuietly(weights, e);
            throw new UncheckedIOException("cannot write " + weights, e);
        } catch (RuntimeException e) {
            deleteQuietly(weights, e);
            throw e;
        }
        return weights;
    }

    private static void deleteQuietly(Path file, Exception cause) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    /** Labels a safetensors file may carry in its metadata ({@code labels}: comma-separated), else empty. */
    public static List<String> labelsIn(Path file) {
        try {
            if (TorchvisionWeightsFile.kindOf(file) != TorchvisionWeightsFile.Kind.SAFETENSORS) {
                return List.of(); // torch.save's state_dicts carry no metadata
            }
            String labels = SafeTensors.read(Files.readAllBytes(file)).metadata().get("labels");
            List<String> out = new ArrayList<>();
            if (labels != null) {
                for (String label : labels.split(",")) {
                    if (!label.isBlank()) {
                        out.add(label.trim());
                    }
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The weights' sha256 identifies what actually scored, whatever the version is called. */
    public static ModelId idOf(CheckpointManifest manifest) {
        CheckpointManifest.FileEntry weights = manifest.weightsEntry();
        return new ModelId(manifest.name(), manifest.version(), weights == null ? null : weights.sha256());
    }

    private static ModelSpec spec(CheckpointManifest manifest) {
        if (manifest.model() == null) {
            throw new CheckpointIntegrityException("manifest of " + manifest.name() + "/" + manifest.version()
                    + " does not describe its model");
        }
        return manifest.model();
    }
}
