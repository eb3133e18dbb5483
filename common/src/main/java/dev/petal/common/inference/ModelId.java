package dev.petal.common.inference;

/** Which model made a prediction: its name, version and the sha256 of its weights. */
public record ModelId(String name, String version, String sha256) {}
