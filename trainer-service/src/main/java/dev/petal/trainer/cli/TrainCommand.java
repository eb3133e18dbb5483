package dev.petal.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.cli.ComputeOptions;
import dev.petal.common.cli.ModelOptions;
import dev.petal.common.model.Precision;
import dev.petal.trainer.job.Recipe;
import dev.petal.trainer.job.TrainingJob;
import dev.petal.trainer.service.TrainerConfig;
import dev.petal.trainer.service.TrainingMetrics;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./petal train}: one training run against the configured Kafka and S3; exits when published. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a ResNet on petal.train and publish a checkpoint after each epoch. Defaults: the seed recipe"
                + " (or --preset's), flags given win.")
public class TrainCommand implements Callable<Integer> {
    @Option(names = "--preset", paramLabel = "NAME", description = "seed (the default) or flowers-cpu (the flower photos from scratch"
            + " on a CPU; README, Commands).")
    String preset;
    @Mixin
    ModelOptions model;
    @Mixin
    ComputeOptions compute;
    @Option(names = "--train-image-size", paramLabel = "PIXELS", description = "Train at this size, validate and serve at --image-size"
            + " (smaller is faster, and with --augment scores better at the larger size). Default: 0, the --image-size.")
    Integer trainImageSize;
    @Option(names = "--early-image-size", paramLabel = "PIXELS", description = "Train the first --early-epochs at this size"
            + " (progressive resizing: cheaper early epochs). Default: 0, off.")
    Integer earlyImageSize;
    @Option(names = "--early-epochs", paramLabel = "N", description = "How many of the first epochs train at --early-image-size.")
    Integer earlyEpochs;
    @Option(names = "--epochs", description = "Default: 1.")
    Integer epochs;
    @Option(names = "--validate-from-epoch", paramLabel = "N", description = "Validate epoch N and later (and always the last);"
            + " only validated epochs can be promoted. Default: 1, every epoch.")
    Integer validateFromEpoch;
    @Option(names = "--recalibration-images", paramLabel = "N", description = "Before each validation, re-estimate the BatchNorm"
            + " statistics at --image-size from N training images, centre-cropped as served (helps when --train-image-size is"
            + " smaller). Default: 0, off.")
    Integer recalibrationImages;
    @Option(names = "--batch-size", description = "Default: 4.")
    Integer batchSize;
    @Option(names = "--lr", description = "Peak AdamW learning rate. Default: 1e-4.")
    Float lr;
    @Option(names = "--weight-decay", description = "AdamW weight decay. Default: 0.01.")
    Float weightDecay;
    @Option(names = "--warmup-iters", description = "Linear warm-up steps from --warmup-start-factor x lr, then cosine. Default: 20.")
    Integer warmupIters;
    @Option(names = "--warmup-fraction", description = "Warm up over this fraction of the run's steps instead (0.3 with cosine after it"
            + " is a one-cycle schedule).")
    Float warmupFraction;
    @Option(names = "--warmup-start-factor", description = "The warm-up starts at this fraction of lr. Default: 0.01.")
    Float warmupStartFactor;
    @Option(names = "--label-smoothing", description = "Cross-entropy label smoothing. Default: 0.")
    Float labelSmoothing;
    @Option(names = "--augment", negatable = true, description = "Random resized crop, horizontal flip and --colour-jitter (off in the seed recipe).")
    Boolean augment;
    @Option(names = "--min-crop-scale", description = "Smallest crop of --augment, as a fraction of the image's area. Default: 0.08.")
    Float minCropScale;
    @Option(names = "--colour-jitter", description = "Brightness, contrast and saturation jitter of --augment. Default: 0.")
    Float colourJitter;
    @Option(names = "--seed", description = "Default: 100.")
    Long seed;
    @Option(names = "--zero-init-residual", negatable = true, description = "Start each block's last BatchNorm gamma at 0.")
    Boolean zeroInitResidual;
    @Option(names = "--model-name", description = "Name in object storage. Default: petal.")
    String modelName;
    @Option(names = "--dataset", description = "Train only on records of this dataset (the ingest --dataset name). Default: the whole topic.")
    String dataset;
    @Option(names = "--resume", description = "Continue the latest checkpoint of --model-name with its recipe and data (a new run when there is none).")
    boolean resume;
    @Option(names = "--init-weights", paramLabel = "FILE|torchvision:ARCH", description = "Start from torchvision-layout weights:"
            + " FILE.safetensors, FILE.pth/.pt (a torch.save state_dict), or torchvision:<arch> (ImageNet, fetched first with"
            + " ./petal weights fetch <arch>); a head of another size is replaced.")
    String initWeights;
    @Option(names = "--warm-start", description = "A new run on the data as it stands now, starting from the latest checkpoint's weights (new labels get a new head).")
    boolean warmStart;
    @Option(names = "--checkpoint-interval", paramLabel = "SECONDS",
            description = "Also checkpoint in the middle of an epoch every SECONDS (0: after each epoch only). Default: 0.")
    Integer checkpointInterval;
    @Option(names = "--stop-after-epochs", description = "Stop after this many epochs (resume later). Default: run all.")
    Integer stopAfterEpochs;
    @Option(names = "--decode-threads", description = "Default: 2.")
    Integer decodeThreads;
    @Option(names = "--prefetch-batches", description = "Batches decoded while a step runs."
            + " Default: 0 on a CPU (decoded between steps: beside the model they would slow it), 4 on a GPU.")
    Integer prefetchBatches;
    @Option(names = "--cache-mb", description = "Keep images in memory up to this many MB: encoded as the data is indexed, then decoded,"
            + " so later epochs skip the JPEG decode. Default: 1024.")
    Long cacheMb;

    @Spec
    CommandSpec spec;
    @Inject
    TrainingMetrics metrics;

    @Inject
    TrainerConfig config;

    @Override
    public Integer call() throws Exception {
        Recipe recipe;
        try {
            recipe = recipe();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        long started = System.nanoTime();
        TrainingJob.Result result = new TrainingJob(recipe, config.kafka(), config.s3(), config.imageLimits(), metrics)
                .signedWith(config.manifestSigner()).maxLabels(config.settings().maxLabels()).gate(config.gate()).run();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", result.manifest().name());
        summary.put("version", result.manifest().version());
        summary.put("epoch", result.manifest().epoch());
        summary.put("step", result.manifest().step());
        summary.put("metrics", result.manifest().metrics());
        if (result.gate() != null) {
            summary.put("gate", result.gate());
        }
        summary.put("seconds", Math.round((System.nanoTime() - started) / 1e8) / 10.0);
        System.out.println(new ObjectMapper().writeValueAsString(summary));
        return 0;
    }

    /** The preset (or the seed recipe), the service's device and precision, then every flag given. */
    Recipe recipe() {
        Recipe.Builder b = preset == null ? Recipe.builder() : Recipe.preset(preset);
        Recipe base = b.build();
        b.network(model.network(base.network()));
        b.device(compute.device(config.settings().device()));
        b.precision(compute.precision(preset == null ? config.settings().precision() : base.precision()));
        set(trainImageSize, b::trainImageSize);
        set(earlyImageSize, b::earlyImageSize);
        set(earlyEpochs, b::earlyEpochs);
        set(epochs, b::epochs);
        set(validateFromEpoch, b::validateFromEpoch);
        set(recalibrationImages, b::recalibrationImages);
        set(batchSize, b::batchSize);
        set(lr, b::lr);
        set(weightDecay, b::weightDecay);
        set(warmupIters, b::warmupIters);
        set(warmupFraction, b::warmupFraction);
        set(warmupStartFactor, b::warmupStartFactor);
        set(labelSmoothing, b::labelSmoothing);
        set(augment, b::augment);
        set(minCropScale, b::minCropScale);
        set(colourJitter, b::colourJitter);
        set(seed, b::seed);
        set(zeroInitResidual, b::zeroInitResidual);
        set(modelName, b::modelName);
        set(dataset, b::dataset);
        set(initWeights, b::initWeights);
        set(checkpointInterval, b::checkpointIntervalSeconds);
        set(stopAfterEpochs, b::stopAfterEpochs);
        set(decodeThreads, b::decodeThreads);
        set(prefetchBatches, b::prefetchBatches);
        set(cacheMb, b::cacheMegabytes);
        return b.resume(resume).warmStart(warmStart).build().validated();
    }

    private static <T> void set(T value, java.util.function.Consumer<T> setter) {
        if (value != null) {
            setter.accept(value);
        }
    }
}
