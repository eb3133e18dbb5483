package dev.petal.common.records;

import java.util.Map;

/** The Kafka topic names of the Petal contract (DESIGN.md, "Kafka topics"), and the settings they are created with. */
public final class Topics {

    /** Labelled images: the dataset, kept forever. Written by ingest, read by the trainer. */
    public static final String TRAIN = "petal.train";
    /** Images to score. Written by ingest or any Kafka client, read by inference. */
    public static final String IMAGES = "petal.images";
    /** One JSON prediction per input. Written by inference. */
    public static final String PREDICTIONS = "petal.predictions";
    /** Predictions of a shadow replica ({@code petal.inference.mode=shadow}): the challenger's, beside the champion's. */
    public static final String PREDICTIONS_SHADOW = "petal.predictions.shadow";
    /** One event per published checkpoint. Written by the trainer, read by inference. */
    public static final String MODELS = "petal.models";
    /** Inputs that could not be processed, with the reason in headers. */
    public static final String DLQ = "petal.dlq";

    /**
     * Topic-level settings every environment creates the topics with (the local stack, ingest's provisioner,
     * docker-compose, the Strimzi KafkaTopics). The dataset is kept forever, by time and by size. The model
     * events are kept forever too, compacted on their key (the model name): inference follows new events from
     * the end of the topic and polls {@code models/<name>/latest} as a fallback, so only the newest event per
     * model matters, and every version stays in object storage. Topics not listed take the broker's defaults.
     */
    public static final Map<String, Map<String, String>> CONFIGS = Map.of(
            TRAIN, Map.of("retention.ms", "-1", "retention.bytes", "-1"),
            MODELS, Map.of("retention.ms", "-1", "retention.bytes", "-1", "cleanup.policy", "compact"));

    /** The settings {@code topic} is created with; empty for the broker's defaults. */
    public static Map<String, String> configsOf(String topic) {
        return CONFIGS.getOrDefault(topic, Map.of());
    }

    private Topics() {
    }
}
