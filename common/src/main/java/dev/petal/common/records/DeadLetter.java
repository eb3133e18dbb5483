package dev.petal.common.records;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The contract's dead-letter record: the input's key, value and headers untouched, plus why and
 * where from. Input headers named like the five a dead letter sets (a replayed dead letter's, or
 * forged ones) are not carried over, so that each appears once and says the truth.
 */
public final class DeadLetter {
    /** The headers every dead letter sets. */
    public static final Set<String> HEADERS = Set.of(Headers.ERROR_CLASS, Headers.ERROR_REASON,
            Headers.SOURCE_TOPIC, Headers.SOURCE_PARTITION, Headers.SOURCE_OFFSET);

    private DeadLetter() {}

    public static ProducerRecord<byte[], byte[]> of(String deadLetterTopic, String sourceTopic, int partition, long offset,
            byte[] key, byte[] value, Iterable<Header> headers, String errorClass, String reason) {
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(deadLetterTopic, null, key, value);
        for (Header h : headers) {
            if (!HEADERS.contains(h.key())) {
                out.headers().add(h.key(), h.value());
            }
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
