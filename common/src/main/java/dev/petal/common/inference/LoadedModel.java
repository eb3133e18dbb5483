package dev.petal.common.inference;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.ModelSpec;

/**
 * A model's verified bytes and description, before it is built on a device.
 *
 * @param manifest the checkpoint manifest, or {@code null} for a bare weights file
 */
public record LoadedModel(ModelId id, ModelSpec spec, byte[] weights, CheckpointManifest manifest) {}
