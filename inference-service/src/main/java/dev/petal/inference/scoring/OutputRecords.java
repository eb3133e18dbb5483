package dev.petal.inference.scoring;

import dev.petal.common.inference.Prediction;
import dev.petal.common.records.DeadLetter;
import dev.petal.common.records.Headers;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The two records an input can become: its prediction, or a dead letter carrying it untouched.
 *
 * <p>Keys are bytes, and any Kafka client may send any bytes as a key. Both outputs carry the
 * input's key bytes exactly as they came (so a consumer can match them, and a keyed output lands
 * where the key says), or {@code partition:offset} when the input had none. The prediction's JSON
 * {@code id} is text: the key when it is valid, non-empty UTF-8 of at most {@value #MAX_ID_BYTES}
 * bytes, else {@code partition:offset}, the same fallback as for a missing key. (Decoding a
 * non-UTF-8 key would replace its bad bytes with U+FFFD, and two different keys could then share
 * one id; a megabyte key copied into the JSON would double the record.)
 *
 * <p>Every output must fit the broker's record limit, or publishing fails, the batch is retried,
 * fails again, and the service stalls on that one input for good. An input just under the limit
 * fits, but its dead letter (the same value plus five headers) may not. So an output is first
 * built as the contract says and, only when its size estimate is over {@code maxRecordBytes}
 * ({@link #DEFAULT_MAX_RECORD_BYTES}, Kafka's default {@code message.max.bytes}, unless the caller
 * passes the real one), made smaller in steps: a dead letter drops the input's own headers, then
 * its value, then its key, and says so in {@code error-reason}; a prediction falls back to
 * {@code partition:offset} as its key.
 */
public final class OutputRecords {
    /** Kafka's default {@code message.max.bytes} (broker and topic): the largest record batch it accepts. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1024 * 1024 + 12;
    /** Longest {@code label} header carried over to a prediction (a larger one would crowd the record limit). */
    static final int MAX_LABEL_BYTES = 512;
    /** Longest key, in UTF-8 bytes, that becomes a prediction's {@code id}. */
    public static final int MAX_ID_BYTES = 4096;
    /** Record-batch framing around one record: the batch header and the record's own varints, generously. */
    private static final int BATCH_OVERHEAD = 61 + 5 + 1 + 10 + 10 + 5 + 5 + 5;
    private static final int HEADER_OVERHEAD = 10;

    private OutputRecords() {}

    /** The input's key as text when it is valid UTF-8, not empty and at most {@value #MAX_ID_BYTES} bytes; else {@code partition:offset}. */
    public static String outputKey(ConsumerRecord<byte[], byte[]> in) {
        String key = in.key() == null || in.key().length > MAX_ID_BYTES ? null : utf8(in.key());
        return key == null || key.isEmpty() ? position(in) : key;
    }

    /** The input's key bytes untouched, or {@code partition:offset} when it had none. */
    public static byte[] outputKeyBytes(ConsumerRecord<byte[], byte[]> in) {
        return in.key() == null ? position(in).getBytes(StandardCharsets.UTF_8) : in.key();
    }

    /** The CloudEvents id when the input is a binary-mode CloudEvent with a usable id, else {@link #outputKey}. */
    public static String predictionId(ConsumerRecord<byte[], byte[]> in) {
        Header ceId = in.headers().lastHeader(Headers.CE_ID);
        String id = ceId == null || ceId.value() == null || ceId.value().length > MAX_ID_BYTES ? null : utf8(ceId.value());
        return id == null || id.isEmpty() ? outputKey(in) : id;
    }

    /** {@link #prediction(String, ConsumerRecord, Prediction, int)} with Kafka's default record limit. */
    public static ProducerRecord<byte[], byte[]> prediction(String topic, ConsumerRecord<byte[], byte[]> in, Prediction p) {
        return prediction(topic, in, p, DEFAULT_MAX_RECORD_BYTES);
    }

    /**
     * A prediction made during a canary: the JSON gains {@code "route": "canary"|"champion"} and the record a
     * {@code route} header ({@code route} null: an ordinary prediction).
     */
    public static ProducerRecord<byte[], byte[]> prediction(String topic, ConsumerRecord<byte[], byte[]> in, Prediction p, String route) {
        ProducerRecord<byte[], byte[]> out = prediction(topic, in, p, DEFAULT_MAX_RECORD_BYTES);
        if (route == null) {
            return out;
        }
        String json = new String(out.value(), StandardCharsets.UTF_8).stripTrailing();
        byte[] value = (json.substring(0, json.length() - 1) + ",\"route\":\"" + route + "\"}").getBytes(StandardCharsets.UTF_8);
        ProducerRecord<byte[], byte[]> routed = new ProducerRecord<>(out.topic(), null, out.key(), value, out.headers());
        routed.headers().add(Headers.ROUTE, route.getBytes(StandardCharsets.UTF_8));
        return routed;
    }

    /**
     * Keyed like the input, header {@code model-version}, with the input's {@code ce_*} and {@code label} headers carried
     * over; keyed {@code partition:offset} instead when the input's key would not leave room for the rest.
     */
    public static ProducerRecord<byte[], byte[]> prediction(String topic, ConsumerRecord<byte[], byte[]> in, Prediction p,
                                                           int maxRecordBytes) {
        byte[] value = p.toJson().getBytes(StandardCharsets.UTF_8);
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(topic, null, outputKeyBytes(in), value);
        out.headers().add(Headers.MODEL_VERSION, p.model().version().getBytes(StandardCharsets.UTF_8));
        for (Header h : in.headers()) {
            // CloudEvents headers, and the input's label (a labelled input: the canary and ./petal model compare score it)
            if (h.key().startsWith(Headers.CE_PREFIX) || Headers.LABEL.equals(h.key()) && h.value() != null
                    && h.value().length <= MAX_LABEL_BYTES) {
                out.headers().add(h.key(), h.value());
            }
        }
        if (estimatedSize(out) > maxRecordBytes) {
            out = new ProducerRecord<>(topic, null, position(in).getBytes(StandardCharsets.UTF_8), value, out.headers());
        }
        return out;
    }

    /** {@link #deadLetter(String, ConsumerRecord, Rejection, int)} with Kafka's default record limit. */
    public static ProducerRecord<byte[], byte[]> deadLetter(String topic, ConsumerRecord<byte[], byte[]> in, Rejection why) {
        return deadLetter(topic, in, why, DEFAULT_MAX_RECORD_BYTES);
    }

    /**
     * The input's key, value and headers untouched, plus the error and where the input came from.
     * Input headers named like the five the dead letter sets are dropped, so that each appears once.
     * Only when that would be over {@code maxRecordBytes}: without the input's headers, then without
     * its value, then without its key, with {@code error-reason} saying what was left out.
     */
    public static ProducerRecord<byte[], byte[]> deadLetter(String topic, ConsumerRecord<byte[], byte[]> in, Rejection why,
                                                           int maxRecordBytes) {
        ProducerRecord<byte[], byte[]> out = deadLetter(topic, in, in.key(), in.value(), true, why);
        if (estimatedSize(out) <= maxRecordBytes) {
            return out;
        }
        boolean hadHeaders = in.headers().toArray().length > 0;
        String headers = hadHeaders ? "its headers" : null;
        if (hadHeaders) {
            out = deadLetter(topic, in, in.key(), in.value(), false, leftOut(why, maxRecordBytes, headers));
            if (estimatedSize(out) <= maxRecordBytes) {
                return out;
            }
        }
        String value = "its " + length(in.value()) + "-byte value";
        out = deadLetter(topic, in, in.key(), null, false, leftOut(why, maxRecordBytes, headers, value));
        if (estimatedSize(out) <= maxRecordBytes) {
            return out;
        }
        return deadLetter(topic, in, null, null, false,
                leftOut(why, maxRecordBytes, headers, value, "its " + length(in.key()) + "-byte key"));
    }

    private static ProducerRecord<byte[], byte[]> deadLetter(String topic, ConsumerRecord<byte[], byte[]> in, byte[] key,
                                                            byte[] value, boolean withInputHeaders, Rejection why) {
        return DeadLetter.of(topic, in.topic(), in.partition(), in.offset(), key, value,
                withInputHeaders ? in.headers() : List.of(), why.errorClass(), why.reason());
    }

    /** The reason, prefixed (so that cutting it to length keeps the prefix) with what the dead letter lacks. */
    private static Rejection leftOut(Rejection why, int maxRecordBytes, String... parts) {
        List<String> what = new ArrayList<>();
        for (String part : parts) {
            if (part != null) {
                what.add(part);
            }
        }
        String list = what.size() == 1 ? what.get(0)
                : String.join(", ", what.subList(0, what.size() - 1)) + " and " + what.get(what.size() - 1);
        return new Rejection(why.errorClass(), "[dead letter without " + list + ": the whole input would not fit the "
                + maxRecordBytes + "-byte record limit] " + why.reason());
    }

    /** At least the bytes the record takes in a record batch of its own, uncompressed. */
    static long estimatedSize(ProducerRecord<byte[], byte[]> r) {
        long size = BATCH_OVERHEAD + length(r.key()) + length(r.value());
        for (Header h : r.headers()) {
            size += HEADER_OVERHEAD + h.key().getBytes(StandardCharsets.UTF_8).length + length(h.value());
        }
        return size;
    }

    private static int length(byte[] b) {
        return b == null ? 0 : b.length;
    }

    private static String position(ConsumerRecord<byte[], byte[]> in) {
        return in.partition() + ":" + in.offset();
    }

    /** The bytes as a string when they are valid UTF-8; null when absent or not UTF-8. */
    static String utf8(byte[] b) {
        if (b == null) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
