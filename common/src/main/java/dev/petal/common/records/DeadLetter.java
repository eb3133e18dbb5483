package dev.petal.common.records;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/** The contract's dead-letter record: the input's key, value and headers untouched, plus why and where from. */
public final class DeadLetter {
    private DeadLetter() {}

    public static ProducerRecord<byte[], byte[]> of(String deadLetterTopic, String sourceTopic, int partition, long offset,
            byte[] key, byte[] value, Iterable<Header> headers, String errorClass, String reason) {
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(deadLetterTopic, null, key, value);
        for (Header h : headers) {
            out.headers().add(h.key(), h.value());
        }
        add(out, Headers.ERROR_CLASS, errorClass);
        add(out, Headers.ERROR_REASON, reason);
        add(out, Headers.SOURCE_TOPIC, sourceTopic);
        add(out, Headers.SOURCE_PARTITION, Integer.toString(partition));
        add(out, Headers.SOURCE_OFFSET, Long.toString(offset));
        return out;
    }

    private static void add(ProducerRecord<?, ?> record, String name, String value) {
        record.headers().add(name, (value == null ? "" : value).getBytes(StandardCharsets.UTF_8));
    }
}
