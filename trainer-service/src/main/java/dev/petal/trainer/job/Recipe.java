package dev.petal.trainer.job;

import ai.djl.Device;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.TorchvisionDownloads;
import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.Precision;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One training run's settings. The defaults are the seed recipe: ResNet-18, batch 4, 1 epoch, AdamW
 * lr 1e-4 (weight decay 0.01), 20 warm-up steps, seed 100, 224 px, ImageNet normalisation, no
 * augmentation. The same record is filled from command-line flags and from {@code POST /train} JSON.
 *
 * @param stopAfterEpochs stop after this many epochs of the run (0: run them all); resume later with {@code resume}
 * @param checkpointIntervalSeconds also checkpoint mid-epoch after this many seconds (0: only after each epoch)
 * @param prefetchBatches batches decoded while the step before them runs; {@link #PREFETCH_AUTO}: see
 *        {@link #prefetchBatchesOn}
 * @param cacheMegabytes keep encoded images in memory up to this budget; the rest is re-read from Kafka
 * @param dataset train only on records whose dataset header is this (null: the whole topic)
 * @param warmStart a new run on the data as it stands now, starting from the weights of the latest
 *     version of {@code modelName} (a head of another size when the labels changed); what auto-retrain does
 * @param precision fp32, or bf16: mixed precision (bf16 compute, fp32 weights), 1.3-1.6x the images/s on
 *     CPUs with AVX-512 BF16 or AMX
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record Recipe(
        String modelName,
        String arch,
        int epochs,
        int batchSize,
        float lr,
        float weightDecay,
        int warmupIters,
        int imageSize,
        boolean augment,
        long seed,
        String device,
        boolean smallStem,
        boolean zeroInitResidual,
        String normalize,
        boolean resume,
        String initWeights,
        int stopAfterEpochs,
        int checkpointIntervalSeconds,
        int decodeThreads,
        int prefetchBatches,
        long cacheMegabytes,
        String dataset,
        boolean warmStart,
        String precision) {

    public static final String DEFAULT_MODEL_NAME = "petal";
    /** {@code prefetchBatches} left to the device: 0 on a CPU, 4 on a GPU. */
    public static final int PREFETCH_AUTO = -1;
    private static final int GPU_PREFETCH = 4;

    public static Recipe seedRecipe() {
        return new Recipe(DEFAULT_MODEL_NAME, "resnet18", 1, 4, 1e-4f, 0.01f, 20, 224, false, 100, "auto",
                false, false, "imagenet", false, null, 0, 0, 2, PREFETCH_AUTO, 1024, null, false, "fp32");
    }

    /** Checks every value and says which flag is wrong. */
    public Recipe validated() {
        if (modelName == null || !modelName.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("--model-name must be 1-64 letters, digits, '.', '_' or '-', was '" + modelName + "'");
        }
        Architecture.parse(arch);
        Normalization.parse(normalize);
        require(epochs >= 1, "--epochs must be >= 1");
        require(batchSize >= 1, "--batch-size must be >= 1");
        require(lr > 0 && Float.isFinite(lr), "--lr must be > 0");
        require(weightDecay >= 0 && Float.isFinite(weightDecay), "--weight-decay must be >= 0");
        require(warmupIters >= 0, "--warmup-iters must be >= 0");
        require(imageSize >= 16 && imageSize <= 1024, "--image-size must be between 16 and 1024");
        require(stopAfterEpochs >= 0, "--stop-after-epochs must be >= 0");
        require(checkpointIntervalSeconds >= 0, "--checkpoint-interval must be >= 0");
        require(decodeThreads >= 1, "--decode-threads must be >= 1");
        require(prefetchBatches >= 0 || prefetchBatches == PREFETCH_AUTO, "--prefetch-batches must be >= 0");
        require(cacheMegabytes >= 0, "--cache-mb must be >= 0");
        require(!(resume && warmStart), "--resume and --warm-start exclude each other");
        try {
            Precision.parse(precision);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--precision must be fp32 or bf16, was '" + precision + "'");
        }
        if (!device.matches("cpu|gpu|auto")) {
            throw new IllegalArgumentException("--device must be cpu, gpu or auto, was '" + device + "'");
        }
        if (TorchvisionDownloads.isReference(initWeights)) {
            // Say now, not after the data is indexed, that the weights are for another depth or not fetched.
            Architecture weightsFor = TorchvisionDownloads.architectureOf(initWeights);
            require(weightsFor == Architecture.parse(arch), "--init-weights " + initWeights + " is for " + weightsFor.id()
                    + ", but --arch is " + Architecture.parse(arch).id());
            TorchvisionDownloads.resolve(initWeights);
        }
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** This recipe with the fields of a JSON object replaced (unknown fields are an error). */
    public Recipe withOverrides(ObjectMapper json, Map<String, Object> overrides) {
        Map<String, Object> merged = json.convertValue(this, LinkedHashMap.class);
        merged.putAll(overrides);
        return json.convertValue(merged, Recipe.class);
    }

    /** What shapes the result: stored in the manifest, and restored by a resume. */
    public Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", arch);
        m.put("epochs", epochs);
        m.put("batchSize", batchSize);
        m.put("optimizer", "adamw");
        m.put("lr", lr);
        m.put("weightDecay", weightDecay);
        m.put("betas", new float[] {0.9f, 0.999f});
        m.put("eps", 1e-8f);
        m.put("schedule", "linear-warmup-cosine");
        m.put("warmupIters", warmupIters);
        m.put("warmupStartFactor", 0.01f);
        m.put("imageSize", imageSize);
        m.put("augment", augment);
        m.put("seed", seed);
        m.put("smallStem", smallStem);
        m.put("zeroInitResidual", zeroInitResidual);
        m.put("normalize", normalize);
        m.put("precision", Precision.parse(precision).id());
        m.put("loss", "softmax-cross-entropy");
        m.put("initWeights", initWeights);
        m.put("dataset", dataset);
        m.put("decode", "ImageDecoder.decode(bytes, imageSize) + Preprocessor");
        return m;
    }

    /**
     * Batches to decode ahead on {@code device}. Left to the device, a CPU gets 0: each batch is
     * decoded on the decoder threads between two steps. The model keeps every core busy, and
     * decoding beside it stalls its threads at each op's barrier for about twice the CPU time the
     * decoding takes (bf16, 2 cores: 0.88-0.89 of the synthetic images/s with 4 ahead, 0.92-0.95
     * with 0). A GPU computes on its own, so its host decodes 4 batches ahead meanwhile.
     */
    public int prefetchBatchesOn(Device device) {
        if (prefetchBatches != PREFETCH_AUTO) {
            return prefetchBatches;
        }
        return device.isGpu() ? GPU_PREFETCH : 0;
    }

    /** The recipe a checkpoint was trained with, keeping this run's machine settings (device, threads, ...). */
    public Recipe resumedFrom(Map<String, Object> manifestRecipe) {
        return fromManifest(manifestRecipe, true, false);
    }

    /** A new run with a checkpoint's recipe that starts from its weights: retraining on newer data. */
    public Recipe warmStartedFrom(Map<String, Object> manifestRecipe) {
        return fromManifest(manifestRecipe, false, true);
    }

    private Recipe fromManifest(Map<String, Object> manifestRecipe, boolean resume, boolean warmStart) {
        Map<String, Object> r = manifestRecipe;
        return new Recipe(modelName, (String) r.get("arch"), num(r, "epochs").intValue(), num(r, "batchSize").intValue(),
                num(r, "lr").floatValue(), num(r, "weightDecay").floatValue(), num(r, "warmupIters").intValue(),
                num(r, "imageSize").intValue(), Boolean.TRUE.equals(r.get("augment")), num(r, "seed").longValue(),
                device, Boolean.TRUE.equals(r.get("smallStem")), Boolean.TRUE.equals(r.get("zeroInitResidual")),
                (String) r.get("normalize"), resume, (String) r.get("initWeights"), stopAfterEpochs,
                checkpointIntervalSeconds, decodeThreads, prefetchBatches, cacheMegabytes,
                r.get("dataset") instanceof String d ? d : dataset, warmStart,
                r.get("precision") instanceof String p ? p : Precision.FP32.id()); // versions before bf16 were fp32
    }

    private static Number num(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Number n)) {
            throw new IllegalStateException("the checkpoint's recipe lacks " + key);
        }
        return n;
    }
}
