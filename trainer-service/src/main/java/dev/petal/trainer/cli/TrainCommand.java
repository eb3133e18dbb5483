package dev.petal.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.model.Architecture;
import dev.petal.trainer.job.Recipe;
import dev.petal.trainer.job.TrainingJob;
import dev.petal.trainer.service.TrainerConfig;
import dev.petal.trainer.service.TrainingMetrics;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./petal train}: one training run against the configured Kafka and S3; exits when published. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a ResNet on petal.train and publish a checkpoint after each epoch. Defaults: the seed recipe.")
public class TrainCommand implements Callable<Integer> {
    @Option(names = "--arch", defaultValue = "resnet18", converter = ArchitectureConverter.class, description = "Default: ${DEFAULT-VALUE}.")
    Architecture arch;
    @Option(names = "--epochs", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}.")
    int epochs;
    @Option(names = "--batch-size", defaultValue = "4", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;
    @Option(names = "--lr", defaultValue = "1e-4", description = "Peak AdamW learning rate. Default: ${DEFAULT-VALUE}.")
    float lr;
    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay. Default: ${DEFAULT-VALUE}.")
    float weightDecay;
    @Option(names = "--warmup-iters", defaultValue = "20", description = "Linear warm-up steps from 0.01 x lr, then cosine. Default: ${DEFAULT-VALUE}.")
    int warmupIters;
    @Option(names = "--image-size", defaultValue = "224", description = "Default: ${DEFAULT-VALUE}.")
    int imageSize;
    @Option(names = "--augment", description = "Random resized crop + horizontal flip (off in the seed recipe).")
    boolean augment;
    @Option(names = "--seed", defaultValue = "100", description = "Default: ${DEFAULT-VALUE}.")
    long seed;
    @Option(names = "--device", description = "cpu, gpu or auto (default: petal.trainer.device, auto).")
    String device;
    @Option(names = "--precision", description = "fp32, or bf16: mixed precision, fp32 weights; 1.3-1.6x faster on CPUs "
            + "with AVX-512 BF16 or AMX (default: petal.trainer.precision, fp32).")
    String precision;
    @Option(names = "--small-stem", description = "3x3 stride-1 stem without max-pool, for 32-64 px images.")
    boolean smallStem;
    @Option(names = "--zero-init-residual", description = "Start each block's last BatchNorm gamma at 0.")
    boolean zeroInitResidual;
    @Option(names = "--normalize", defaultValue = "imagenet", description = "imagenet or none (none reproduces the tutorial). Default: ${DEFAULT-VALUE}.")
    String normalize;
    @Option(names = "--model-name", defaultValue = "petal", description = "Name in object storage. Default: ${DEFAULT-VALUE}.")
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
    @Option(names = "--checkpoint-interval", paramLabel = "SECONDS", defaultValue = "0",
            description = "Also checkpoint in the middle of an epoch every SECONDS (0: after each epoch only). Default: ${DEFAULT-VALUE}.")
    int checkpointInterval;
    @Option(names = "--stop-after-epochs", defaultValue = "0", description = "Stop after this many epochs (resume later). Default: run all.")
    int stopAfterEpochs;
    @Option(names = "--decode-threads", defaultValue = "2", description = "Default: ${DEFAULT-VALUE}.")
    int decodeThreads;
    @Option(names = "--prefetch-batches", defaultValue = "-1", description = "Batches decoded while a step runs."
            + " Default: 0 on a CPU (decoded between steps: beside the model they would slow it), 4 on a GPU.")
    int prefetchBatches;
    @Option(names = "--cache-mb", defaultValue = "1024", description = "Keep encoded images in memory up to this size. Default: ${DEFAULT-VALUE}.")
    long cacheMb;

    @Spec
    CommandSpec spec;
    @Inject
    TrainingMetrics metrics;

    @Override
    public Integer call() throws Exception {
        Recipe recipe;
        try {
            recipe = new Recipe(modelName, arch.id(), epochs, batchSize, lr, weightDecay, warmupIters, imageSize, augment, seed,
                    device == null ? TrainerConfig.device() : device, smallStem, zeroInitResidual, normalize, resume,
                    initWeights, stopAfterEpochs, checkpointInterval, decodeThreads, prefetchBatches, cacheMb,
                    dataset, warmStart, precision == null ? TrainerConfig.precision() : precision).validated();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        long started = System.nanoTime();
        TrainingJob.Result result = new TrainingJob(recipe, TrainerConfig.kafka(), TrainerConfig.s3(), TrainerConfig.imageLimits(), metrics)
                .signedWith(TrainerConfig.manifestSigner()).run();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", result.manifest().name());
        summary.put("version", result.manifest().version());
        summary.put("epoch", result.manifest().epoch());
        summary.put("step", result.manifest().step());
        summary.put("metrics", result.manifest().metrics());
        summary.put("seconds", Math.round((System.nanoTime() - started) / 1e8) / 10.0);
        System.out.println(new ObjectMapper().writeValueAsString(summary));
        return 0;
    }
}
