package dev.petal.common.records;

/** The Kafka topic names of the Petal contract (DESIGN.md, "Kafka topics"). */
public final class Topics {

    /** Labelled images: the dataset, kept forever. Written by ingest, read by the trainer. */
    public static final String TRAIN = "petal.train";
    /** Images to score. Written by ingest or any Kafka client, read by inference. */
    public static final String IMAGES = "petal.images";
    /** One JSON prediction per input. Written by inference. */
    public static final String PREDICTIONS = "petal.predictions";
    /** One event per published checkpoint. Written by the trainer, read by inference. */
    public static final String MODELS = "petal.models";
    /** Inputs that could not be processed, with the reason in headers. */
    public static final String DLQ = "petal.dlq";

    private Topics() {
    }
}
