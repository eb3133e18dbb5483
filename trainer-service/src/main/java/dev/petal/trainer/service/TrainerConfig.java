package dev.petal.trainer.service;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.ManifestSigner;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.records.KafkaClientConfig;
import dev.petal.common.storage.S3Settings;
import dev.petal.trainer.job.Recipe;
import java.io.IOException;
import dev.petal.common.model.Precision;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import org.eclipse.microprofile.config.ConfigProvider;

/** The trainer's addresses and limits from Quarkus configuration (environment variables included). */
public final class TrainerConfig {
    public static final String DEVICE = "petal.trainer.device";
    public static final String PRECISION = "petal.trainer.precision";
    public static final String RECIPE = "petal.trainer.recipe";
    public static final String AUTO_RETRAIN_AFTER = "petal.trainer.auto-retrain-after";
    public static final String AUTO_RETRAIN_CHECK = "petal.trainer.auto-retrain-check";
    public static final String SIGNING_KEY = "petal.checkpoint.signing-key";
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainerConfig() {}

    public static Function<String, String> lookup() {
        var config = ConfigProvider.getConfig();
        return key -> config.getOptionalValue(key, String.class).orElse(null);
    }

    public static Properties kafka() {
        return KafkaClientConfig.from(ConfigProvider.getConfig().getPropertyNames(), lookup());
    }

    public static S3Settings s3() {
        return S3Settings.fromConfig(lookup());
    }

    /**
     * The signer of {@value #SIGNING_KEY} for {@code new CheckpointStore(store, signer)}, or {@code null}
     * when the key is unset or blank (versions are published unsigned).
     *
     * @throws IllegalArgumentException when the key is malformed (the message names the setting, never the key)
     */
    public static ManifestSigner manifestSigner() {
        return ManifestSigner.fromConfig(SIGNING_KEY, lookup().apply(SIGNING_KEY)).orElse(null);
    }

    public static ImageLimits imageLimits() {
        return ImageLimits.from(lookup());
    }

    public static String device() {
        return valueOr(DEVICE, "auto");
    }

    public static String precision() {
        return valueOr(PRECISION, "fp32");
    }

    /** The setting {@code key}, or {@code fallback} when it is unset or blank. */
    private static String valueOr(String key, String fallback) {
        String value = lookup().apply(key);
        return value == null || value.isBlank() ? fallback : value;
    }

    /**
     * The service's recipe: the seed recipe on the configured device and precision, with the fields of
     * {@value #RECIPE} (JSON; any field) and then of {@code overridesJson} (a request body; may be blank;
     * only {@link #REQUESTABLE} fields) replaced.
     */
    public static Recipe baseRecipe(String overridesJson) {
        Recipe recipe = Recipe.builder().device(device()).precision(Precision.parse(precision())).build();
        recipe = recipe.withOverrides(parse(RECIPE, lookup().apply(RECIPE)), List.of(Recipe.Field.values()));
        return recipe.withOverrides(parse("the request body", overridesJson), REQUESTABLE);
    }

    /**
     * What a training request may set: how the model is trained, never the machine (device, threads, prefetching)
     * or a resume. The model name, the initial weights and the image cache are held to the service's settings by
     * {@link TrainRequests}.
     */
    public static final List<Recipe.Field> REQUESTABLE = List.of(Recipe.Field.ARCH, Recipe.Field.IMAGE_SIZE, Recipe.Field.STEM,
            Recipe.Field.NORMALIZATION, Recipe.Field.EPOCHS, Recipe.Field.BATCH_SIZE, Recipe.Field.LR, Recipe.Field.WEIGHT_DECAY,
            Recipe.Field.WARMUP_ITERS, Recipe.Field.WARMUP_FRACTION, Recipe.Field.WARMUP_START_FACTOR, Recipe.Field.LABEL_SMOOTHING,
            Recipe.Field.AUGMENT, Recipe.Field.MIN_CROP_SCALE, Recipe.Field.COLOUR_JITTER, Recipe.Field.SEED,
            Recipe.Field.ZERO_INIT_RESIDUAL, Recipe.Field.PRECISION, Recipe.Field.DATASET, Recipe.Field.WARM_START,
            Recipe.Field.MODEL_NAME, Recipe.Field.INIT_WEIGHTS, Recipe.Field.CACHE_MB);

    private static Map<String, Object> parse(String what, String json) {
        if (json == null || json.isBlank()) {
            return Map.of();
        }
        try {
            return JSON.readValue(json, new TypeReference<Map<String, Object>>() {});
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " is not a JSON object of recipe fields: " + e.getMessage());
        }
    }

    /** Retrain after this many new labelled images (0: never). */
    public static int autoRetrainAfter() {
        String value = lookup().apply(AUTO_RETRAIN_AFTER);
        return value == null || value.isBlank() ? 0 : Integer.parseInt(value.trim());
    }

    /** How often auto-retrain counts new images. */
    public static Duration autoRetrainCheck() {
        return ConfigProvider.getConfig().getOptionalValue(AUTO_RETRAIN_CHECK, Duration.class).orElse(Duration.ofSeconds(30));
    }
}
