package dev.petal.trainer.service;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.ManifestSigner;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.storage.S3Settings;
import dev.petal.service.config.CheckpointKeys;
import dev.petal.service.config.ImageConfig;
import dev.petal.service.config.S3Config;
import dev.petal.trainer.job.Recipe;
import io.smallrye.config.ConfigMapping;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * What a training run needs from the trainer's configuration: its Kafka clients, object storage, image limits, the
 * manifest signer, and the service's recipe ({@link TrainerSettings}, {@code petal.s3.*}, {@code petal.image.*},
 * {@code petal.checkpoint.signing-key}).
 */
@ApplicationScoped
public class TrainerConfig {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The promotion gate's {@code petal.registry.*} keys (docs/model-lifecycle.md). */
    @ConfigMapping(prefix = "petal.registry")
    public interface RegistrySettings {
        /** How many accuracy points a candidate must be above the champion (negative: below) to be promoted. */
        @io.smallrye.config.WithDefault("0.0")
        double promoteMargin();

        /** Whether the gate promotes at all; false: the best epoch of a run becomes challenger. */
        @io.smallrye.config.WithDefault("true")
        boolean autoPromote();
    }

    private final TrainerSettings settings;
    private final KafkaClients kafka;
    private final S3Config s3;
    private final ImageConfig images;
    private final CheckpointKeys signing;
    private final RegistrySettings registry;

    public TrainerConfig(TrainerSettings settings, KafkaClients kafka, S3Config s3, ImageConfig images, CheckpointKeys signing,
                         RegistrySettings registry) {
        this.settings = settings;
        this.registry = registry;
        this.kafka = kafka;
        this.s3 = s3;
        this.images = images;
        this.signing = signing;
    }

    public TrainerSettings settings() {
        return settings;
    }

    public KafkaClients kafka() {
        return kafka;
    }

    public S3Settings s3() {
        return s3.settings();
    }

    public ImageLimits imageLimits() {
        return images.limits();
    }

    /** The promotion gate's settings. */
    public dev.petal.trainer.job.PromotionGate.Settings gate() {
        return new dev.petal.trainer.job.PromotionGate.Settings(registry.promoteMargin(), registry.autoPromote());
    }

    /** The share of the heap a service run's image cache may take. */
    public CacheBudget cacheBudget() {
        return new CacheBudget(settings.cacheMemoryShare());
    }

    /**
     * The signer of {@value CheckpointKeys#SIGNING_KEY}, or {@code null} when the key is unset (versions are published unsigned).
     *
     * @throws IllegalArgumentException when the key is malformed (the message names the setting, never the key)
     */
    public ManifestSigner manifestSigner() {
        return ManifestSigner.fromConfig(CheckpointKeys.SIGNING_KEY, signing.signingKey().orElse(null)).orElse(null);
    }

    /**
     * The service's recipe: the seed recipe on the configured device and precision, with the fields of
     * {@code petal.trainer.recipe} (JSON; any field) and then of {@code overridesJson} (a request body; may be blank;
     * only {@link #REQUESTABLE} fields) replaced.
     */
    public Recipe baseRecipe(String overridesJson) {
        Recipe recipe = Recipe.builder().device(settings.device()).precision(settings.precision()).build();
        recipe = recipe.withOverrides(parse("petal.trainer.recipe", settings.recipe().orElse(null)), List.of(Recipe.Field.values()));
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
}
