package dev.petal.ingest;

import java.nio.ByteBuffer;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/** Drops record values unread: building the index of petal.train needs only keys and headers. */
public class SkippingDeserializer implements Deserializer<Void> {
    @Override
    public Void deserialize(String topic, byte[] data) {
        return null;
    }

    @Override
    public Void deserialize(String topic, Headers headers, ByteBuffer data) {
        return null;
    }
}
