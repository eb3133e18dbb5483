package dev.petal.trainer.service;

import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.NetworkSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.Stem;
import dev.petal.trainer.job.Recipe;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /train/fields}: what a {@code POST /train} body may set ({@link TrainerConfig#REQUESTABLE}), each with its
 * type, its bounds or choices (those {@link Recipe.Field}'s checks enforce; {@code RequestableFieldsTest} holds the two
 * together) and this trainer's value, so that a form (the console's) offers exactly what the API takes. The API still
 * checks every request: this only describes it.
 */
public final class RequestableFields {
    private RequestableFields() {}

    /** One field: {@code type} is integer, number, boolean, choice or text; min and max inclusive unless {@code exclusiveMin}. */
    record Bound(String type, Number min, Number max, boolean exclusiveMin, List<String> choices, String help) {
        static Bound integer(long min, long max, String help) {
            return new Bound("integer", min, max, false, null, help);
        }

        static Bound number(double min, double max, boolean exclusiveMin, String help) {
            return new Bound("number", min, max, exclusiveMin, null, help);
        }

        static Bound choice(List<String> choices, String help) {
            return new Bound("choice", null, null, false, choices, help);
        }

        static Bound bool(String help) {
            return new Bound("boolean", null, null, false, null, help);
        }

        static Bound text(String help) {
            return new Bound("text", null, null, false, null, help);
        }
    }

    static final Map<Recipe.Field, Bound> BOUNDS = bounds();

    private static Map<Recipe.Field, Bound> bounds() {
        Map<Recipe.Field, Bound> b = new LinkedHashMap<>();
        b.put(Recipe.Field.ARCH, Bound.choice(Architecture.ids(), "network architecture"));
        b.put(Recipe.Field.IMAGE_SIZE, Bound.integer(NetworkSpec.MIN_IMAGE_SIZE, NetworkSpec.MAX_IMAGE_SIZE, "input size in pixels"));
        b.put(Recipe.Field.STEM, Bound.choice(Arrays.stream(Stem.values()).map(Stem::id).toList(), "small: 3x3 stem for 32-64 px inputs"));
        b.put(Recipe.Field.NORMALIZATION, Bound.choice(Arrays.stream(Normalization.values()).map(Normalization::id).toList(),
                "input normalisation"));
        b.put(Recipe.Field.EPOCHS, Bound.integer(1, 1000, "passes over the training split"));
        b.put(Recipe.Field.BATCH_SIZE, Bound.integer(1, 4096, "images per step"));
        b.put(Recipe.Field.LR, Bound.number(0, 10, true, "peak learning rate (AdamW)"));
        b.put(Recipe.Field.WEIGHT_DECAY, Bound.number(0, 1, false, "AdamW weight decay"));
        b.put(Recipe.Field.WARMUP_ITERS, Bound.integer(0, 10_000_000, "warm-up steps"));
        b.put(Recipe.Field.WARMUP_FRACTION, Bound.number(0, 0.999999, false, "warm-up as a share of all steps (below 1)"));
        b.put(Recipe.Field.WARMUP_START_FACTOR, Bound.number(0, 1, true, "learning rate at the first step, as a share of the peak"));
        b.put(Recipe.Field.LABEL_SMOOTHING, Bound.number(0, 0.5, false, "label smoothing"));
        b.put(Recipe.Field.AUGMENT, Bound.bool("random crops, flips and colour jitter"));
        b.put(Recipe.Field.MIN_CROP_SCALE, Bound.number(0, 1, true, "smallest random crop, as a share of the image"));
        b.put(Recipe.Field.COLOUR_JITTER, Bound.number(0, 1, false, "colour jitter strength"));
        b.put(Recipe.Field.SEED, Bound.integer(Long.MIN_VALUE, Long.MAX_VALUE, "random seed"));
        b.put(Recipe.Field.ZERO_INIT_RESIDUAL, Bound.bool("zero-initialise each block's last BatchNorm"));
        b.put(Recipe.Field.PRECISION, Bound.choice(Arrays.stream(Precision.values()).filter(Precision::trains).map(Precision::id).toList(), "compute precision"));
        b.put(Recipe.Field.DATASET, Bound.text("dataset name on petal.train (1-64 letters, digits, '.', '_' or '-'); empty: all"));
        b.put(Recipe.Field.WARM_START, Bound.bool("start from the latest version's weights"));
        b.put(Recipe.Field.MODEL_NAME, Bound.text("model name; one the trainer allows (petal.trainer.allowed-model-names)"));
        b.put(Recipe.Field.INIT_WEIGHTS, Bound.text("torchvision:<arch> or s3://<bucket>/<key>; empty: none"));
        b.put(Recipe.Field.CACHE_MB, Bound.integer(0, 1L << 24, "image cache in MB, within the trainer's heap share"));
        return b;
    }

    /** The fields in {@link TrainerConfig#REQUESTABLE} order, with the values of {@code base} (the trainer's recipe). */
    static List<Map<String, Object>> describe(Recipe base, List<String> allowedModelNames, long maxCacheMegabytes) {
        Map<String, Object> values = new LinkedHashMap<>(base.toManifest());
        values.put(Recipe.Field.MODEL_NAME.jsonName(), base.modelName());
        values.put(Recipe.Field.WARM_START.jsonName(), base.warmStart());
        values.put(Recipe.Field.CACHE_MB.jsonName(), base.cacheMegabytes());
        List<Map<String, Object>> fields = new ArrayList<>();
        for (Recipe.Field field : TrainerConfig.REQUESTABLE) {
            Bound bound = BOUNDS.get(field);
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("name", field.jsonName());
            f.put("type", bound.type());
            f.put("value", values.get(field.jsonName()));
            if (bound.min() != null && field != Recipe.Field.SEED) {
                f.put("min", bound.min());
                f.put("max", field == Recipe.Field.CACHE_MB ? maxCacheMegabytes : bound.max());
                if (bound.exclusiveMin()) {
                    f.put("exclusiveMin", true);
                }
            }
            List<String> choices = field == Recipe.Field.MODEL_NAME ? allowedModelNames : bound.choices();
            if (choices != null) {
                f.put("choices", choices);
                if (field == Recipe.Field.MODEL_NAME) {
                    f.put("type", "choice");
                }
            }
            f.put("help", bound.help());
            fields.add(f);
        }
        return fields;
    }
}
