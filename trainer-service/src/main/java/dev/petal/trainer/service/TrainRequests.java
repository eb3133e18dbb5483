package dev.petal.trainer.service;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.TorchvisionDownloads;
import dev.petal.common.model.Architecture;
import dev.petal.common.records.UntrustedText;
import dev.petal.common.storage.BucketRefs;
import dev.petal.trainer.job.Recipe;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@code POST /train} body may ask for. The body is data, not configuration: only the fields of
 * {@link TrainerConfig#REQUESTABLE}, each parsed and bounded by its {@link Recipe.Field}; and three that reach
 * beyond the recipe are held to the service's settings: the model name (one of {@value #ALLOWED_MODEL_NAMES},
 * by default the service's own), the initial weights (a named cache entry, {@code torchvision:<arch>}, or an
 * object of the configured bucket, {@code s3://<bucket>/<key>}; never a path on the trainer) and the image cache
 * (at most {@link CacheBudget}). A refusal is an {@link IllegalArgumentException} whose message is one line that
 * quotes nothing read from disk, and of the request at most a short sanitised piece.
 */
public final class TrainRequests {
    public static final String ALLOWED_MODEL_NAMES = "petal.trainer.allowed-model-names";
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final int MAX_MESSAGE = 400;
    private static final int MAX_QUOTE = 64;

    private TrainRequests() {}

    /** The run {@code body} asks for: the service's recipe with the body's fields; blank asks for the recipe as it is. */
    public static Recipe recipe(String body, TrainerConfig config) {
        Recipe base = config.baseRecipe(null);
        Map<String, Object> fields = parse(body);
        for (String name : fields.keySet()) {
            if (Recipe.Field.named(name).filter(TrainerConfig.REQUESTABLE::contains).isEmpty()) {
                throw new IllegalArgumentException("unknown recipe field '" + quote(name) + "'; a request may set "
                        + TrainerConfig.REQUESTABLE.stream().map(Recipe.Field::jsonName).toList());
            }
        }
        if (fields.containsKey(Recipe.Field.MODEL_NAME.jsonName())) {
            checkModelName(fields.get(Recipe.Field.MODEL_NAME.jsonName()), allowedModelNames(base, config.settings()));
        }
        if (fields.containsKey(Recipe.Field.INIT_WEIGHTS.jsonName())) {
            checkInitWeights(fields.get(Recipe.Field.INIT_WEIGHTS.jsonName()), config.s3().bucket());
        }
        Recipe recipe;
        try {
            recipe = base.withOverrides(fields, TrainerConfig.REQUESTABLE);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(UntrustedText.oneLine(e.getMessage(), MAX_MESSAGE));
        }
        long maxCache = config.cacheBudget().maxMegabytes();
        if (fields.containsKey(Recipe.Field.CACHE_MB.jsonName()) && recipe.cacheMegabytes() > maxCache) {
            throw new IllegalArgumentException("cacheMegabytes must be at most " + maxCache + " on this trainer ("
                    + CacheBudget.SHARE + " of its heap), was " + recipe.cacheMegabytes());
        }
        return recipe;
    }

    /** The model names a request may train: {@value #ALLOWED_MODEL_NAMES}, else the service's recipe's. */
    static List<String> allowedModelNames(Recipe base, TrainerSettings settings) {
        List<String> configured = settings.allowedModelNames().orElse(List.of()).stream().map(String::trim)
                .filter(name -> !name.isEmpty()).toList();
        return configured.isEmpty() ? List.of(base.modelName()) : configured;
    }

    private static void checkModelName(Object value, List<String> allowed) {
        if (!(value instanceof String name) || !allowed.contains(name)) {
            String shown = value instanceof String s ? "'" + quote(s) + "'" : "not a string";
            throw new IllegalArgumentException("modelName " + shown + " is not one this trainer may train; allowed: " + allowed
                    + " (" + ALLOWED_MODEL_NAMES + ")");
        }
    }

    /** Only a cached torchvision file or an object of the configured bucket: a path would have the trainer read its own disk. */
    private static void checkInitWeights(Object value, String bucket) {
        if (value == null) {
            return; // no initial weights
        }
        String expected = "initWeights must be torchvision:<arch> (the trainer's weights cache) or s3://" + bucket
                + "/<key> (the configured bucket); the trainer reads no path it is sent";
        if (!(value instanceof String location)) {
            throw new IllegalArgumentException(expected);
        }
        if (TorchvisionDownloads.isReference(location)) {
            Architecture arch;
            try {
                arch = TorchvisionDownloads.architectureOf(location);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("initWeights '" + quote(location) + "': " + UntrustedText.oneLine(e.getMessage(), MAX_MESSAGE));
            }
            try {
                TorchvisionDownloads.resolve(location);
            } catch (IllegalArgumentException e) {
                // Said without the cache's path on the trainer.
                throw new IllegalArgumentException("initWeights " + TorchvisionDownloads.SCHEME + arch.id()
                        + " is not in the trainer's weights cache; fetch it there first (./petal weights fetch " + arch.id() + ")");
            }
            return;
        }
        if (BucketRefs.isObjectRef(location)) {
            String problem = BucketRefs.problem(location, bucket);
            if (problem != null) {
                throw new IllegalArgumentException(expected + "; this reference " + problem);
            }
            return;
        }
        throw new IllegalArgumentException(expected);
    }

    private static Map<String, Object> parse(String body) {
        if (body == null || body.isBlank()) {
            return Map.of();
        }
        JsonNode tree;
        try {
            tree = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            // Where, not what: the parser's own message quotes the body.
            String where = e.getLocation() == null ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            throw new IllegalArgumentException("the request body is not a JSON object of recipe fields" + where
                    + (e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field") ? ": a field is repeated" : ""));
        }
        if (tree == null || !tree.isObject()) {
            throw new IllegalArgumentException("the request body must be a JSON object of recipe fields, e.g. {\"epochs\": 3}");
        }
        return new LinkedHashMap<>(JSON.convertValue(tree, new TypeReference<Map<String, Object>>() {}));
    }

    private static String quote(String text) {
        return UntrustedText.oneLine(text, MAX_QUOTE);
    }
}
