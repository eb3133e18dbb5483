package dev.petal.common.records;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Stem;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The petal.models event as the trainer writes it and inference reads it. */
class ModelEventTest {
    private static final ModelSpec SPEC = new ModelSpec(Architecture.RESNET18, SyntheticShapes.LABELS, 16, Stem.SMALL, Normalization.IMAGENET);

    @Test
    void whatIsWrittenIsReadBack() {
        CheckpointManifest manifest = new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, "flowers", "v7", null,
                "2026-12-02T00:00:00Z", SPEC, Map.of("seed", 1), 1, 10, Map.of(), null, null, null);
        byte[] key = ModelEvent.key(manifest);
        assertArrayEquals("flowers".getBytes(StandardCharsets.UTF_8), key);
        assertEquals(new ModelEvent("flowers", "v7", "models/flowers/v7/manifest.json"), ModelEvent.parse(key, ModelEvent.value(manifest)));
    }

    @Test
    void anyProducersEventIsReadLeniently() {
        ModelEvent bare = ModelEvent.parse("petal".getBytes(StandardCharsets.UTF_8), "{}".getBytes(StandardCharsets.UTF_8));
        assertEquals(new ModelEvent("petal", "", ""), bare, "the record key names the model when the manifest does not");
        assertThrows(IllegalArgumentException.class, () -> ModelEvent.parse(null, "not json".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> ModelEvent.parse(null, "[1]".getBytes(StandardCharsets.UTF_8)));
    }
}
