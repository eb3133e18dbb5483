package dev.petal.trainer.data;

/** A record of the dataset topic that cannot be trained on, with the contract's error class. */
public record BadRecord(int partition, long offset, byte[] key, byte[] value,
        org.apache.kafka.common.header.Headers headers, String errorClass, String reason) {}
