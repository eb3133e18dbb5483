package dev.petal.trainer.service;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.petal.trainer.job.Recipe;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * GET /train/fields describes what the recipe's own checks enforce: every requestable field has a description, each
 * bound is accepted at its edge and refused past it, each choice is accepted.
 */
class RequestableFieldsTest {
    private final Recipe base = Recipe.seedRecipe();

    @Test
    void everyRequestableFieldIsDescribedInOrder() {
        List<Map<String, Object>> fields = RequestableFields.describe(base, List.of("petal"), 1024);
        assertEquals(TrainerConfig.REQUESTABLE.stream().map(Recipe.Field::jsonName).toList(),
                fields.stream().map(f -> f.get("name")).toList());
        for (Map<String, Object> f : fields) {
            assertNotNull(f.get("type"), f.toString());
        }
        Map<String, Object> epochs = fields.stream().filter(f -> f.get("name").equals("epochs")).findFirst().orElseThrow();
        assertEquals(base.epochs(), epochs.get("value"));
        Map<String, Object> cache = fields.stream().filter(f -> f.get("name").equals("cacheMegabytes")).findFirst().orElseThrow();
        assertEquals(1024L, cache.get("max"), "the trainer's cache budget, not the recipe's ceiling");
    }

    @Test
    void boundsAreTheRecipesChecks() {
        for (Recipe.Field field : TrainerConfig.REQUESTABLE) {
            RequestableFields.Bound bound = RequestableFields.BOUNDS.get(field);
            assertNotNull(bound, field.jsonName());
            if (bound.min() == null || field == Recipe.Field.SEED) {
                continue;
            }
            boolean whole = bound.type().equals("integer");
            Number min = bound.min();
            Number max = bound.max();
            Number below = whole ? (Number) (min.longValue() - 1) : (Number) (min.doubleValue() - 1e-6);
            Number above = whole ? (Number) (max.longValue() + 1) : (Number) (max.doubleValue() + 1e-6);
            String name = field.jsonName();
            if (bound.exclusiveMin()) {
                assertThrows(IllegalArgumentException.class, () -> base.withOverrides(Map.of(name, min), TrainerConfig.REQUESTABLE), name + " at min");
            } else {
                assertDoesNotThrow(() -> base.withOverrides(Map.of(name, min), TrainerConfig.REQUESTABLE), name + " at min");
                assertThrows(IllegalArgumentException.class, () -> base.withOverrides(Map.of(name, below), TrainerConfig.REQUESTABLE), name + " below min");
            }
            assertDoesNotThrow(() -> base.withOverrides(Map.of(name, max), TrainerConfig.REQUESTABLE), name + " at max");
            assertThrows(IllegalArgumentException.class, () -> base.withOverrides(Map.of(name, above), TrainerConfig.REQUESTABLE), name + " above max");
        }
    }

    @Test
    void everyChoiceIsAccepted() {
        for (Recipe.Field field : TrainerConfig.REQUESTABLE) {
            RequestableFields.Bound bound = RequestableFields.BOUNDS.get(field);
            if (bound.choices() != null) {
                for (String choice : bound.choices()) {
                    assertDoesNotThrow(() -> base.withOverrides(Map.of(field.jsonName(), choice), TrainerConfig.REQUESTABLE),
                            field.jsonName() + "=" + choice);
                }
            }
        }
    }
}
