package dev.petal.inference.scoring;

import dev.petal.common.inference.Prediction;
import dev.petal.common.records.Headers;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/** The two records an input can become: its prediction, or a dead letter carrying it untouched. */
public final class OutputRecords {
    private OutputRecords() {}

    /** The input's key, or {@code partition:offset} when it had none. */
    public static String outputKey(ConsumerRecord<byte[], byte[]> in) {
        return in.key() == null ? in.partition() + ":" + in.offset() : new String(in.key(), StandardCharsets.UTF_8);
    }

    /** The CloudEvents id when the input is a binary-mode CloudEvent, else the output key. */
    public static String predictionId(ConsumerRecord<byte[], byte[]> in) {
        Header ceId = in.headers().lastHeader(Headers.CE_ID);
        return ceId == null || ceId.value() == null ? outputKey(in) : new String(ceId.value(), StandardCharsets.UTF_8);
    }

    /** Keyed like the input, header {@code model-version}, with the input's {@code ce_*} headers carried over. */
    public static ProducerRecord<byte[], byte[]> prediction(String topic, ConsumerRecord<byte[], byte[]> in, Prediction p) {
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(topic, null,
                outputKey(in).getBytes(StandardCharsets.UTF_8), p.toJson().getBytes(StandardCharsets.UTF_8));
        out.headers().add(Headers.MODEL_VERSION, p.model().version().getBytes(StandardCharsets.UTF_8));
        for (Header h : in.headers()) {
            if (h.key().startsWith(Headers.CE_PREFIX)) {
                out.headers().add(h.key(), h.value());
            }
        }
        return out;
    }

    /** The input's key, value and headers untouched, plus the error and where the input came from. */
    public static ProducerRecord<byte[], byte[]> deadLetter(String topic, ConsumerRecord<byte[], byte[]> in, Rejection why) {
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(topic, null, in.key(), in.value());
        for (Header h : in.headers()) {
            out.headers().add(h.key(), h.value());
        }
        out.headers().add(Headers.ERROR_CLASS, bytes(why.errorClass()));
        out.headers().add(Headers.ERROR_REASON, bytes(why.reason()));
        out.headers().add(Headers.SOURCE_TOPIC, bytes(in.topic()));
        out.headers().add(Headers.SOURCE_PARTITION, bytes(Integer.toString(in.partition())));
        out.headers().add(Headers.SOURCE_OFFSET, bytes(Long.toString(in.offset())));
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
