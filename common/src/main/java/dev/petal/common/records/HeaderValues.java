package dev.petal.common.records;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/** Reads the contract's text headers (UTF-8) off a consumed record. */
public final class HeaderValues {
    private HeaderValues() {}

    /** The last value of header {@code name} as text, or null when the record has none. */
    public static String text(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
