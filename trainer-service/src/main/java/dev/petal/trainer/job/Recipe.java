package dev.petal.trainer.job;

import ai.djl.Device;
import dev.petal.common.checkpoint.TorchvisionDownloads;
import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.NetworkSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.Stem;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * One training run's settings, built by name ({@link #builder()}, {@link #toBuilder()}). The defaults
 * are the seed recipe: ResNet-18 at 224 px, batch 4, 1 epoch, AdamW lr 1e-4 (weight decay 0.01), 20
 * warm-up steps then cosine, seed 100, ImageNet normalisation, no augmentation. {@link Field} names every
 * setting once: the command line, {@code POST /train} JSON, the manifest and a resume all go through it.
 *
 * @param network what is trained (architecture, input size, stem, normalisation); the labels come from the data
 * @param trainImageSize the training batches' size when it differs from the network's input size, at which the
 *        run validates and the checkpoint is served (0: the same); see {@link #trainingImageSize()}
 * @param earlyImageSize when above 0, the first {@code earlyEpochs} epochs train at this size instead (progressive
 *        resizing: the network learns coarse features from cheaper, smaller batches, then the later epochs train at
 *        {@link #trainingImageSize()}); see {@link #trainingImageSize(int)}
 * @param earlyEpochs how many of the first epochs train at {@code earlyImageSize}
 * @param warmupFraction when above 0, the warm-up lasts this fraction of the run's steps instead of {@code warmupIters}
 * @param warmupStartFactor the learning rate's warm-up starts at this fraction of {@code lr}
 * @param labelSmoothing the cross-entropy's label smoothing
 * @param augment random resized crop (scale {@code minCropScale}-1, ratio 3/4-4/3), horizontal flip, and colour jitter of
 *        {@code colourJitter} (brightness, contrast, saturation), each image differently each epoch
 * @param validateFromEpoch validate (and so offer to the promotion gate) the epochs from this one on, and always the last;
 *        the earlier ones publish checkpoints with their training metrics only. 1: every epoch. On a CPU a validation
 *        takes a few seconds per epoch, and an early epoch is never the run's best
 * @param recalibrationImages before each validation, re-estimate the BatchNorm running statistics at the serving size from
 *        this many training images, resized and centre-cropped as served (FixRes; see {@code ModelSession#recalibration}),
 *        so the checkpoint serves with them; 0: keep the ones gathered in training
 * @param stopAfterEpochs stop after this many epochs of the run (0: run them all); resume later with {@code resume}
 * @param checkpointIntervalSeconds also checkpoint mid-epoch after this many seconds (0: only after each epoch)
 * @param prefetchBatches batches decoded while the step before them runs; {@link #PREFETCH_AUTO}: see
 *        {@link #prefetchBatchesOn}
 * @param cacheMegabytes keep images in memory up to this budget: encoded as the data is indexed, then decoded (so later
 *        epochs and validations skip the decode); the rest is read again from Kafka and decoded again each epoch
 * @param dataset train only on records whose dataset header is this (null: the whole topic)
 * @param warmStart a new run on the data as it stands now, starting from the weights of the latest version of
 *        {@code modelName} (a head of another size when the labels changed); what auto-retrain does
 * @param precision fp32, or bf16: mixed precision (bf16 compute, fp32 weights), faster on CPUs with AVX-512 BF16 or AMX
 */
public record Recipe(
        String modelName,
        NetworkSpec network,
        int trainImageSize,
        int earlyImageSize,
        int earlyEpochs,
        int epochs,
        int validateFromEpoch,
        int recalibrationImages,
        int batchSize,
        float lr,
        float weightDecay,
        int warmupIters,
        float warmupFraction,
        float warmupStartFactor,
        float labelSmoothing,
        boolean augment,
        float minCropScale,
        float colourJitter,
        long seed,
        boolean zeroInitResidual,
        Precision precision,
        String device,
        boolean resume,
        boolean warmStart,
        String initWeights,
        int stopAfterEpochs,
        int checkpointIntervalSeconds,
        int decodeThreads,
        int prefetchBatches,
        long cacheMegabytes,
        String dataset) {

    public static final String DEFAULT_MODEL_NAME = "petal";
    /** {@code prefetchBatches} left to the device: 0 on a CPU, 4 on a GPU. */
    public static final int PREFETCH_AUTO = -1;
    private static final int GPU_PREFETCH = 4;

    public static Recipe seedRecipe() {
        return builder().build();
    }

    /** The seed recipe, to change by name. */
    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * A named starting point for {@code ./petal train --preset NAME}; flags given beside it win.
     * {@code flowers-cpu}: ResNet-18 from scratch, trained at 128 px (the first 32 epochs at 96 px) and validated
     * and served at 160 px, in bf16 (fp32 where the CPU lacks bf16), batch 64, 64 epochs (the last 10 validated), AdamW 2e-3 with weight decay 0.05, warm-up over the first 30% then cosine (a
     * one-cycle schedule), label smoothing 0.1, random resized crops of 30-100%, flips and colour jitter
     * 0.3, decoded images cached (the README's commands table).
     */
    public static Builder preset(String name) {
        return switch (name == null ? "" : name.trim().toLowerCase(Locale.ROOT)) {
            case "seed" -> builder();
            case "flowers-cpu" -> builder().network(new NetworkSpec(Architecture.RESNET18, 160, Stem.IMAGENET, Normalization.IMAGENET))
                    .trainImageSize(128).earlyImageSize(96).earlyEpochs(32).epochs(64).validateFromEpoch(55).batchSize(64).lr(2e-3f).weightDecay(0.05f).warmupFraction(0.3f).warmupStartFactor(0.04f)
                    .labelSmoothing(0.1f).augment(true).minCropScale(0.3f).colourJitter(0.3f).precision(Precision.BF16)
                    .cacheMegabytes(2048);
            default -> throw new IllegalArgumentException("unknown preset '" + name + "'; choose seed or flowers-cpu");
        };
    }

    /** Checks every value and says which flag is wrong. */
    public Recipe validated() {
        if (modelName == null || !modelName.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("--model-name must be 1-64 letters, digits, '.', '_' or '-', was '" + modelName + "'");
        }
        require(network != null, "a recipe needs a network");
        for (Field field : Field.values()) {
            field.check(this);
        }
        require(!(resume && warmStart), "--resume and --warm-start exclude each other");
        if (!device.matches("cpu|gpu|auto")) {
            throw new IllegalArgumentException("--device must be cpu, gpu or auto, was '" + device + "'");
        }
        if (TorchvisionDownloads.isReference(initWeights)) {
            // Say now, not after the data is indexed, that the weights are for another depth or not fetched.
            Architecture weightsFor = TorchvisionDownloads.architectureOf(initWeights);
            require(weightsFor == network.architecture(), "--init-weights " + initWeights + " is for " + weightsFor.id()
                    + ", but --arch is " + arch());
            TorchvisionDownloads.resolve(initWeights);
        }
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * This recipe with the named fields of {@code overrides} replaced, each parsed and bounded by its
     * {@link Field}; {@code allowed} fields only (an unknown or refused name is an error that lists the allowed ones).
     */
    public Recipe withOverrides(Map<String, Object> overrides, List<Field> allowed) {
        Builder b = toBuilder();
        for (Map.Entry<String, Object> e : overrides.entrySet()) {
            Field field = Field.named(e.getKey()).filter(allowed::contains).orElseThrow(() -> new IllegalArgumentException(
                    "unknown recipe field '" + e.getKey() + "'; allowed: " + allowed.stream().map(Field::jsonName).toList()));
            field.set(b, e.getValue());
        }
        return b.build().validated();
    }

    /** What shapes the result: stored in the manifest, and restored by a resume. */
    public Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Field field : Field.values()) {
            if (field.inManifest) {
                m.put(field.jsonName, field.get(this));
            }
        }
        m.put("optimizer", "adamw");
        m.put("betas", new float[] {0.9f, 0.999f});
        m.put("eps", 1e-8f);
        m.put("schedule", "linear-warmup-cosine");
        m.put("loss", "softmax-cross-entropy");
        return m;
    }

    /**
     * Batches to decode ahead on {@code device}. Left to the device, a CPU gets 0: each batch is
     * decoded on the decoder threads between two steps, because decoding beside a model that keeps every
     * core busy stalls its threads at each op's barrier (docs/performance.md). A GPU computes on its own,
     * so its host decodes 4 batches ahead meanwhile.
     */
    public int prefetchBatchesOn(Device device) {
        if (prefetchBatches != PREFETCH_AUTO) {
            return prefetchBatches;
        }
        return device.isGpu() ? GPU_PREFETCH : 0;
    }

    /** The recipe a checkpoint was trained with, keeping this run's machine settings (device, threads, ...). */
    public Recipe resumedFrom(Map<String, Object> manifestRecipe) {
        return fromManifest(manifestRecipe).resume(true).warmStart(false).build();
    }

    /** A new run with a checkpoint's recipe that starts from its weights: retraining on newer data. */
    public Recipe warmStartedFrom(Map<String, Object> manifestRecipe) {
        return fromManifest(manifestRecipe).resume(false).warmStart(true).build();
    }

    private Builder fromManifest(Map<String, Object> manifestRecipe) {
        Builder b = toBuilder();
        for (Field field : Field.values()) {
            if (field.inManifest) {
                Object value = manifestRecipe.get(field.jsonName);
                if (value != null) {
                    field.set(b, value);
                } else if (field.required) {
                    throw new IllegalStateException("the checkpoint's recipe lacks " + field.jsonName);
                }
            }
        }
        return b;
    }

    /**
     * Every recipe setting under its one name: its JSON and manifest key, its flag, how it is read from
     * JSON, its bounds, and whether it shapes the result (the manifest keeps those, a resume restores them).
     */
    public enum Field {
        ARCH("arch", true, true, Recipe::arch, (b, v) -> b.network(b.network.withArchitecture(Architecture.parse(text(v)))), r -> {}),
        IMAGE_SIZE("imageSize", true, true, r -> r.network.imageSize(), (b, v) -> b.network(b.network.withImageSize(integer(v))),
                r -> bounded("--image-size", r.network.imageSize(), NetworkSpec.MIN_IMAGE_SIZE, NetworkSpec.MAX_IMAGE_SIZE)),
        TRAIN_IMAGE_SIZE("trainImageSize", true, false, Recipe::trainImageSize, (b, v) -> b.trainImageSize(integer(v)),
                r -> zeroOrImageSize("--train-image-size", "the --image-size", r.trainImageSize)),
        STEM("stem", true, false, r -> r.network.stem().id(), (b, v) -> b.network(b.network.withStem(Stem.parse(text(v)))), r -> {}),
        NORMALIZATION("normalization", true, false, r -> r.network.normalization().id(),
                (b, v) -> b.network(b.network.withNormalization(Normalization.parse(text(v)))), r -> {}),
        EPOCHS("epochs", true, true, Recipe::epochs, (b, v) -> b.epochs(integer(v)), r -> bounded("--epochs", r.epochs, 1, 1000)),
        EARLY_IMAGE_SIZE("earlyImageSize", true, false, Recipe::earlyImageSize, (b, v) -> b.earlyImageSize(integer(v)),
                r -> zeroOrImageSize("--early-image-size", "off", r.earlyImageSize)),
        EARLY_EPOCHS("earlyEpochs", true, false, Recipe::earlyEpochs, (b, v) -> b.earlyEpochs(integer(v)),
                r -> require(r.earlyEpochs >= 0 && r.earlyEpochs < r.epochs, "--early-epochs (" + r.earlyEpochs
                        + ") must be 0 or more and below --epochs (" + r.epochs + "); give --early-epochs too (0: off)")),
        VALIDATE_FROM_EPOCH("validateFromEpoch", true, false, Recipe::validateFromEpoch, (b, v) -> b.validateFromEpoch(integer(v)),
                r -> bounded("--validate-from-epoch", r.validateFromEpoch, 1, 1000)),
        RECALIBRATION_IMAGES("recalibrationImages", true, false, Recipe::recalibrationImages, (b, v) -> b.recalibrationImages(integer(v)),
                r -> bounded("--recalibration-images", r.recalibrationImages, 0, 1_000_000)),
        BATCH_SIZE("batchSize", true, true, Recipe::batchSize, (b, v) -> b.batchSize(integer(v)),
                r -> bounded("--batch-size", r.batchSize, 1, 4096)),
        LR("lr", true, true, Recipe::lr, (b, v) -> b.lr(number(v)), r -> require(r.lr > 0 && r.lr <= 10, "--lr must be in (0, 10]")),
        WEIGHT_DECAY("weightDecay", true, true, Recipe::weightDecay, (b, v) -> b.weightDecay(number(v)),
                r -> require(r.weightDecay >= 0 && r.weightDecay <= 1, "--weight-decay must be in [0, 1]")),
        WARMUP_ITERS("warmupIters", true, true, Recipe::warmupIters, (b, v) -> b.warmupIters(integer(v)),
                r -> bounded("--warmup-iters", r.warmupIters, 0, 10_000_000)),
        WARMUP_FRACTION("warmupFraction", true, false, Recipe::warmupFraction, (b, v) -> b.warmupFraction(number(v)),
                r -> require(r.warmupFraction >= 0 && r.warmupFraction < 1, "--warmup-fraction must be in [0, 1)")),
        WARMUP_START_FACTOR("warmupStartFactor", true, false, Recipe::warmupStartFactor, (b, v) -> b.warmupStartFactor(number(v)),
                r -> require(r.warmupStartFactor > 0 && r.warmupStartFactor <= 1, "--warmup-start-factor must be in (0, 1]")),
        LABEL_SMOOTHING("labelSmoothing", true, false, Recipe::labelSmoothing, (b, v) -> b.labelSmoothing(number(v)),
                r -> require(r.labelSmoothing >= 0 && r.labelSmoothing <= 0.5f, "--label-smoothing must be in [0, 0.5]")),
        AUGMENT("augment", true, false, Recipe::augment, (b, v) -> b.augment(bool(v)), r -> {}),
        MIN_CROP_SCALE("minCropScale", true, false, Recipe::minCropScale, (b, v) -> b.minCropScale(number(v)),
                r -> require(r.minCropScale > 0 && r.minCropScale <= 1, "--min-crop-scale must be in (0, 1]")),
        COLOUR_JITTER("colourJitter", true, false, Recipe::colourJitter, (b, v) -> b.colourJitter(number(v)),
                r -> require(r.colourJitter >= 0 && r.colourJitter <= 1, "--colour-jitter must be in [0, 1]")),
        SEED("seed", true, true, Recipe::seed, (b, v) -> b.seed(whole(v)), r -> {}),
        ZERO_INIT_RESIDUAL("zeroInitResidual", true, false, Recipe::zeroInitResidual, (b, v) -> b.zeroInitResidual(bool(v)), r -> {}),
        PRECISION("precision", true, false, r -> r.precision.id(), (b, v) -> b.precision(Precision.parse(text(v))),
                r -> require(r.precision.trains(), "--precision " + r.precision.id() + " serves only: train in fp32 or bf16"
                        + " (every validated checkpoint carries its int8 calibration)")),
        DATASET("dataset", true, false, Recipe::dataset, (b, v) -> b.dataset(v == null ? null : text(v)),
                r -> require(r.dataset == null || r.dataset.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}"),
                        "--dataset must be 1-64 letters, digits, '.', '_' or '-'")),
        INIT_WEIGHTS("initWeights", true, false, Recipe::initWeights, (b, v) -> b.initWeights(v == null ? null : text(v)), r -> {}),
        MODEL_NAME("modelName", false, false, Recipe::modelName, (b, v) -> b.modelName(text(v)), r -> {}),
        DEVICE("device", false, false, Recipe::device, (b, v) -> b.device(text(v)), r -> {}),
        RESUME("resume", false, false, Recipe::resume, (b, v) -> b.resume(bool(v)), r -> {}),
        WARM_START("warmStart", false, false, Recipe::warmStart, (b, v) -> b.warmStart(bool(v)), r -> {}),
        STOP_AFTER_EPOCHS("stopAfterEpochs", false, false, Recipe::stopAfterEpochs, (b, v) -> b.stopAfterEpochs(integer(v)),
                r -> bounded("--stop-after-epochs", r.stopAfterEpochs, 0, 1000)),
        CHECKPOINT_INTERVAL("checkpointIntervalSeconds", false, false, Recipe::checkpointIntervalSeconds,
                (b, v) -> b.checkpointIntervalSeconds(integer(v)), r -> bounded("--checkpoint-interval", r.checkpointIntervalSeconds, 0, 86_400)),
        DECODE_THREADS("decodeThreads", false, false, Recipe::decodeThreads, (b, v) -> b.decodeThreads(integer(v)),
                r -> bounded("--decode-threads", r.decodeThreads, 1, 256)),
        PREFETCH_BATCHES("prefetchBatches", false, false, Recipe::prefetchBatches, (b, v) -> b.prefetchBatches(integer(v)),
                r -> require(r.prefetchBatches == PREFETCH_AUTO || (r.prefetchBatches >= 0 && r.prefetchBatches <= 64),
                        "--prefetch-batches must be between 0 and 64")),
        CACHE_MB("cacheMegabytes", false, false, Recipe::cacheMegabytes, (b, v) -> b.cacheMegabytes(whole(v)),
                r -> require(r.cacheMegabytes >= 0 && r.cacheMegabytes <= (1L << 24), "--cache-mb must be between 0 and 16777216"));

        private final String jsonName;
        private final boolean inManifest;
        /** Whether a checkpoint's recipe must have it (fields added later default to the seed recipe's). */
        private final boolean required;
        private final Function<Recipe, Object> getter;
        private final BiConsumer<Builder, Object> setter;
        private final java.util.function.Consumer<Recipe> check;

        Field(String jsonName, boolean inManifest, boolean required, Function<Recipe, Object> getter, BiConsumer<Builder, Object> setter,
              java.util.function.Consumer<Recipe> check) {
            this.jsonName = jsonName;
            this.inManifest = inManifest;
            this.required = required;
            this.getter = getter;
            this.setter = setter;
            this.check = check;
        }

        public String jsonName() {
            return jsonName;
        }

        public static java.util.Optional<Field> named(String name) {
            return Arrays.stream(values()).filter(f -> f.jsonName.equals(name)).findFirst();
        }

        Object get(Recipe recipe) {
            return getter.apply(recipe);
        }

        void set(Builder builder, Object value) {
            try {
                setter.accept(builder, value);
            } catch (IllegalArgumentException | ClassCastException e) {
                throw new IllegalArgumentException("recipe field '" + jsonName + "': " + e.getMessage());
            }
        }

        void check(Recipe recipe) {
            check.accept(recipe);
        }

        private static void bounded(String flag, long value, long min, long max) {
            require(value >= min && value <= max, flag + " must be between " + min + " and " + max + ", was " + value);
        }

        /** An image size where 0 has a meaning of its own ({@code zeroMeans}). */
        private static void zeroOrImageSize(String flag, String zeroMeans, int value) {
            require(value == 0 || value >= NetworkSpec.MIN_IMAGE_SIZE && value <= NetworkSpec.MAX_IMAGE_SIZE, flag + " must be 0 ("
                    + zeroMeans + ") or between " + NetworkSpec.MIN_IMAGE_SIZE + " and " + NetworkSpec.MAX_IMAGE_SIZE + ", was " + value);
        }

        private static String text(Object v) {
            if (!(v instanceof String s)) {
                throw new IllegalArgumentException("expected a string, got " + describe(v));
            }
            return s;
        }

        private static boolean bool(Object v) {
            if (!(v instanceof Boolean b)) {
                throw new IllegalArgumentException("expected true or false, got " + describe(v));
            }
            return b;
        }

        private static int integer(Object v) {
            long n = whole(v);
            if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("out of range: " + n);
            }
            return (int) n;
        }

        private static long whole(Object v) {
            if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && Double.isFinite(n.doubleValue())) {
                return n.longValue();
            }
            throw new IllegalArgumentException("expected a whole number, got " + describe(v));
        }

        private static float number(Object v) {
            if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
                return n.floatValue();
            }
            throw new IllegalArgumentException("expected a number, got " + describe(v));
        }

        private static String describe(Object v) {
            return v == null ? "null" : v instanceof String ? "a string" : v.getClass().getSimpleName().toLowerCase(Locale.ROOT);
        }
    }

    /** Warm-up steps of a run of {@code totalSteps}: {@code warmupFraction} of them when set, else {@code warmupIters}. */
    public int warmupSteps(long totalSteps) {
        return warmupFraction > 0 ? (int) Math.round(warmupFraction * totalSteps) : warmupIters;
    }

    /** The architecture's id, as flags and manifests spell it. */
    public String arch() {
        return network.architecture().id();
    }

    public int imageSize() {
        return network.imageSize();
    }

    /**
     * The training batches' height and width. Below {@link #imageSize()} (FixRes, Touvron et al., 2019):
     * random resized crops enlarge objects, so a network trained on them scores better at a larger input
     * than it saw, and the smaller training images cost less per step.
     */
    public int trainingImageSize() {
        return trainImageSize > 0 ? trainImageSize : network.imageSize();
    }

    /** The training batches' size in epoch {@code epoch} (counted from 1): {@code earlyImageSize} in the early epochs. */
    public int trainingImageSize(int epoch) {
        return earlyImageSize > 0 && epoch <= earlyEpochs ? earlyImageSize : trainingImageSize();
    }

    /** Sets a recipe's fields by name; starts from the seed recipe. */
    public static final class Builder {
        private String modelName = DEFAULT_MODEL_NAME;
        private NetworkSpec network = NetworkSpec.of(Architecture.RESNET18, 224);
        private int trainImageSize;
        private int earlyImageSize;
        private int earlyEpochs;
        private int epochs = 1;
        private int validateFromEpoch = 1;
        private int recalibrationImages;
        private int batchSize = 4;
        private float lr = 1e-4f;
        private float weightDecay = 0.01f;
        private int warmupIters = 20;
        private float warmupFraction = 0f;
        private float warmupStartFactor = 0.01f;
        private float labelSmoothing = 0f;
        private boolean augment = false;
        private float minCropScale = 0.08f;
        private float colourJitter = 0f;
        private long seed = 100;
        private boolean zeroInitResidual = false;
        private Precision precision = Precision.FP32;
        private String device = "auto";
        private boolean resume;
        private boolean warmStart;
        private String initWeights;
        private int stopAfterEpochs;
        private int checkpointIntervalSeconds;
        private int decodeThreads = 2;
        private int prefetchBatches = PREFETCH_AUTO;
        private long cacheMegabytes = 1024;
        private String dataset;

        private Builder() {}

        private Builder(Recipe r) {
            modelName = r.modelName;
            network = r.network;
            trainImageSize = r.trainImageSize;
            earlyImageSize = r.earlyImageSize;
            earlyEpochs = r.earlyEpochs;
            epochs = r.epochs;
            validateFromEpoch = r.validateFromEpoch;
            recalibrationImages = r.recalibrationImages;
            batchSize = r.batchSize;
            lr = r.lr;
            weightDecay = r.weightDecay;
            warmupIters = r.warmupIters;
            warmupFraction = r.warmupFraction;
            warmupStartFactor = r.warmupStartFactor;
            labelSmoothing = r.labelSmoothing;
            augment = r.augment;
            minCropScale = r.minCropScale;
            colourJitter = r.colourJitter;
            seed = r.seed;
            zeroInitResidual = r.zeroInitResidual;
            precision = r.precision;
            device = r.device;
            resume = r.resume;
            warmStart = r.warmStart;
            initWeights = r.initWeights;
            stopAfterEpochs = r.stopAfterEpochs;
            checkpointIntervalSeconds = r.checkpointIntervalSeconds;
            decodeThreads = r.decodeThreads;
            prefetchBatches = r.prefetchBatches;
            cacheMegabytes = r.cacheMegabytes;
            dataset = r.dataset;
        }

        public Builder modelName(String v) { modelName = v; return this; }
        public Builder network(NetworkSpec v) { network = v; return this; }
        public Builder trainImageSize(int v) { trainImageSize = v; return this; }
        public Builder earlyImageSize(int v) { earlyImageSize = v; return this; }
        public Builder earlyEpochs(int v) { earlyEpochs = v; return this; }
        public Builder epochs(int v) { epochs = v; return this; }
        public Builder validateFromEpoch(int v) { validateFromEpoch = v; return this; }
        public Builder recalibrationImages(int v) { recalibrationImages = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder lr(float v) { lr = v; return this; }
        public Builder weightDecay(float v) { weightDecay = v; return this; }
        public Builder warmupIters(int v) { warmupIters = v; return this; }
        public Builder warmupFraction(float v) { warmupFraction = v; return this; }
        public Builder warmupStartFactor(float v) { warmupStartFactor = v; return this; }
        public Builder labelSmoothing(float v) { labelSmoothing = v; return this; }
        public Builder augment(boolean v) { augment = v; return this; }
        public Builder minCropScale(float v) { minCropScale = v; return this; }
        public Builder colourJitter(float v) { colourJitter = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder zeroInitResidual(boolean v) { zeroInitResidual = v; return this; }
        public Builder precision(Precision v) { precision = v; return this; }
        public Builder device(String v) { device = v; return this; }
        public Builder resume(boolean v) { resume = v; return this; }
        public Builder warmStart(boolean v) { warmStart = v; return this; }
        public Builder initWeights(String v) { initWeights = v; return this; }
        public Builder stopAfterEpochs(int v) { stopAfterEpochs = v; return this; }
        public Builder checkpointIntervalSeconds(int v) { checkpointIntervalSeconds = v; return this; }
        public Builder decodeThreads(int v) { decodeThreads = v; return this; }
        public Builder prefetchBatches(int v) { prefetchBatches = v; return this; }
        public Builder cacheMegabytes(long v) { cacheMegabytes = v; return this; }
        public Builder dataset(String v) { dataset = v; return this; }

        public Recipe build() {
            return new Recipe(modelName, network, trainImageSize, earlyImageSize, earlyEpochs, epochs, validateFromEpoch, recalibrationImages, batchSize, lr, weightDecay, warmupIters, warmupFraction, warmupStartFactor,
                    labelSmoothing,
                    augment, minCropScale, colourJitter, seed, zeroInitResidual, precision, device, resume, warmStart, initWeights,
                    stopAfterEpochs, checkpointIntervalSeconds, decodeThreads, prefetchBatches, cacheMegabytes, dataset);
        }
    }
}
