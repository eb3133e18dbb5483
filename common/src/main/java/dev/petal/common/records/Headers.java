package dev.petal.common.records;

/** Kafka header names of the Petal contract (DESIGN.md, "Kafka topics"). */
public final class Headers {
    /** petal.train: the class label (folder name). */
    public static final String LABEL = "label";
    /** petal.train: {@code train} or {@code valid}. */
    public static final String SPLIT = "split";
    /** petal.train: the dataset name. */
    public static final String DATASET = "dataset";
    /** Sniffed from the bytes, never taken from a file name: image/jpeg, image/png, ... */
    public static final String CONTENT_TYPE = "content-type";
    /** Original path of the file, relative to what was ingested. */
    public static final String SOURCE = "source";
    /** Colour model noted at ingest (rgb, gray, palette, rgba, cmyk, 16-bit ...). */
    public static final String COLOR_MODEL = "color-model";
    /** Claim-check: {@code s3://bucket/key} of an image too large to travel inline. */
    public static final String IMAGE_REF = "image-ref";
    /** petal.predictions: the model version that produced the prediction. */
    public static final String MODEL_VERSION = "model-version";

    /** petal.predictions during a canary: {@code canary} (scored by the challenger) or {@code champion}. */
    public static final String ROUTE = "route";
    /** A record re-published from petal.dlq by ./petal dlq replay: {@code petal.dlq:<partition>:<offset>} of its dead letter. */
    public static final String REPLAYED_FROM = "replayed-from";

    /** petal.dlq: short stable code of what went wrong (e.g. not-an-image). */
    public static final String ERROR_CLASS = "error-class";
    /** petal.dlq: human-readable reason. */
    public static final String ERROR_REASON = "error-reason";
    public static final String SOURCE_TOPIC = "source-topic";
    public static final String SOURCE_PARTITION = "source-partition";
    public static final String SOURCE_OFFSET = "source-offset";

    /** CloudEvents binary mode: the event id becomes the prediction id. */
    public static final String CE_ID = "ce_id";
    public static final String CE_PREFIX = "ce_";

    public static final String SPLIT_TRAIN = "train";
    public static final String SPLIT_VALID = "valid";

    private Headers() {}
}
