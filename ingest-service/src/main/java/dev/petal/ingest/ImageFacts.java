package dev.petal.ingest;

/** What validation learned about an accepted image; goes into the record headers. */
public record ImageFacts(String contentType, String colorModel, int width, int height) {}
