package dev.petal.trainer.data;

/**
 * One labelled image of the dataset, by where it lives on the topic; its bytes are read when a
 * batch needs them (or kept in {@link DatasetIndex}'s cache when they fit its budget).
 *
 * @param index position in the index (train and valid samples are numbered separately)
 * @param imageRef claim-check {@code s3://bucket/key} when the bytes are in object storage, else null
 */
public record Sample(int index, int partition, long offset, int label, String imageRef) {}
