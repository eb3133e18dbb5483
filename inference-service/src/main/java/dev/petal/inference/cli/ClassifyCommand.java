package dev.petal.inference.cli;

import dev.petal.common.checkpoint.CheckpointIntegrityException;
import dev.petal.common.cli.ComputeOptions;
import dev.petal.common.cli.ModelOptions;
import dev.petal.common.cli.UserErrors;
import dev.petal.common.checkpoint.TorchvisionWeightsFile;
import dev.petal.common.storage.ObjectStoreException;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.inference.Classifier;
import dev.petal.common.inference.LoadedModel;
import dev.petal.common.inference.ModelSource;
import dev.petal.common.inference.Prediction;
import dev.petal.common.model.Precision;
import dev.petal.service.Storage;
import dev.petal.inference.scoring.ImageInput;
import dev.petal.inference.scoring.ImageScorer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code petal classify IMAGE... --model ...}: scores local files with no Kafka, one prediction JSON
 * line per image on stdout; an unreadable image is reported on stderr (exit code 1), the rest are
 * still scored.
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Score image files with a trained model, locally (no Kafka); prints one prediction JSON line per image.")
public class ClassifyCommand implements Callable<Integer> {
    private static final int BATCH = 16;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files (JPEG, PNG, GIF, BMP, WebP).")
    List<Path> images;

    @Option(names = "--model", required = true, paramLabel = "DIR|s3://BUCKET/models/NAME[/VERSION]|FILE.safetensors|FILE.pth",
            description = "A checkpoint folder (manifest.json + weights.safetensors), a version in object storage "
                    + "(petal.s3.* settings; no version: latest), or torchvision-named weights: safetensors, or a"
                    + " torch.save state_dict (.pth/.pt).")
    String model;

    @Option(names = "--labels", split = ",", description = "Class labels in output order (weights files only).")
    List<String> labels;

    /** The network of a bare weights file (weights files only; a checkpoint says its own). */
    @Mixin
    ModelOptions network;

    @Mixin
    ComputeOptions compute;

    @Option(names = "--top-k", defaultValue = "3", description = "Labels per prediction (default: ${DEFAULT-VALUE}).")
    int topK;

    @Spec
    CommandSpec spec;

    private final ImageScorer scorer;
    private final Storage storage;

    public ClassifyCommand(ImageScorer scorer, Storage storage) {
        this.scorer = scorer;
        this.storage = storage;
    }

    @Override
    public Integer call() {
        if (topK < 1) {
            throw new ParameterException(spec.commandLine(), "--top-k must be at least 1");
        }
        Precision computeIn = compute.precision(Precision.FP32);
        LoadedModel loaded;
        try {
            loaded = load();
        } catch (ObjectStoreException e) {
            System.err.println("petal classify: cannot use the model " + model + ": " + UserErrors.message(e));
            return 1;
        } catch (CheckpointIntegrityException | java.io.UncheckedIOException e) {
            System.err.println("petal classify: cannot use the model " + model + ": " + e.getMessage());
            return 1;
        }
        int failures = 0;
        Classifier classifier;
        try {
            classifier = Classifier.load(loaded, PyTorchEngine.device(compute.device("cpu")), computeIn);
        } catch (IllegalArgumentException e) { // a precision this model or device cannot serve in
            loaded.close();
            System.err.println("petal classify: cannot use the model " + model + ": " + e.getMessage());
            return 1;
        }
        try (loaded; classifier) {
            for (int from = 0; from < images.size(); from += BATCH) {
                List<Path> chunk = images.subList(from, Math.min(images.size(), from + BATCH));
                List<ImageInput> inputs = new ArrayList<>();
                for (Path file : chunk) {
                    inputs.add(() -> read(file));
                }
                List<ImageScorer.Outcome> outcomes = scorer.score(inputs, classifier, topK);
                for (int i = 0; i < chunk.size(); i++) {
                    ImageScorer.Outcome outcome = outcomes.get(i);
                    String file = chunk.get(i).toString();
                    if (outcome.scored()) {
                        Prediction p = Prediction.of(chunk.get(i).getFileName().toString(), outcome.top(), classifier.id(),
                                Prediction.Source.file(file), null);
                        System.out.println(p.toJson());
                    } else {
                        failures++;
                        System.err.println("petal classify: " + file + ": " + outcome.rejection().errorClass() + ": "
                                + outcome.rejection().reason());
                    }
                }
                System.out.flush();
            }
        }
        return failures == 0 ? 0 : 1;
    }

    private LoadedModel load() {
        if (model.startsWith("s3://")) {
            return ModelSource.fromS3(model, storage.settings());
        }
        Path path = Path.of(model);
        if (Files.isDirectory(path)) {
            return ModelSource.fromDirectory(path);
        }
        if (TorchvisionWeightsFile.hasWeightsExtension(model) && Files.isRegularFile(path)) {
            List<String> names = labels != null && !labels.isEmpty() ? labels : ModelSource.labelsIn(path);
            if (names.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "--labels is required: " + model + " names no labels");
            }
            try {
                return ModelSource.fromSafeTensors(path, network.network().withLabels(names));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        throw new ParameterException(spec.commandLine(),
                "--model must be a checkpoint folder, an s3:// location or a .safetensors/.pth file; " + model + " is none of these");
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ImageInput.RejectedInputException(new dev.petal.inference.scoring.Rejection("unreadable",
                    "cannot read the file: " + e.getMessage()));
        }
    }
}
