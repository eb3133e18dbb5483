package dev.petal.inference.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.inference.ModelId;
import dev.petal.common.inference.Prediction;
import dev.petal.common.records.Headers;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/**
 * The parts of issue #8 ("Bad input") that need no broker: keys that are not UTF-8, forged
 * dead-letter headers, reasons built from hostile input, and every claim-check a record may carry.
 * {@code BadInputMatrixTest} sends the same inputs through Kafka.
 */
class BadInputRecordsTest {
    private static final String BUCKET = "petal";

    @Test
    void aKeyThatIsNotUtf8KeepsItsBytesAndTheIdFallsBackToPartitionAndOffset() {
        byte[] key = {(byte) 0xFF, (byte) 0xFE, 'a'};
        ConsumerRecord<byte[], byte[]> in = record(key, new byte[] {1}, new RecordHeaders());
        assertEquals("2:41", OutputRecords.outputKey(in));
        assertEquals("2:41", OutputRecords.predictionId(in));
        assertArrayEquals(key, OutputRecords.outputKeyBytes(in));
        ProducerRecord<byte[], byte[]> dead = OutputRecords.deadLetter("dlq", in, new Rejection("not-an-image", "x"));
        assertArrayEquals(key, dead.key());
    }

    @Test
    void twoDifferentBadKeysDoNotShareAnId() {
        // Decoded leniently, both would become "\uFFFD" and collide.
        ConsumerRecord<byte[], byte[]> a = record(new byte[] {(byte) 0xFF}, new byte[0], new RecordHeaders());
        ConsumerRecord<byte[], byte[]> b = new ConsumerRecord<>("images", 2, 42, new byte[] {(byte) 0xFE}, new byte[0]);
        assertTrue(!OutputRecords.predictionId(a).equals(OutputRecords.predictionId(b)));
    }

    @Test
    void utf8EmptyAndMissingKeys() {
        assertEquals("daisy-é", OutputRecords.outputKey(record("daisy-é".getBytes(StandardCharsets.UTF_8), null, new RecordHeaders())));
        assertEquals("2:41", OutputRecords.outputKey(record(new byte[0], null, new RecordHeaders())));
        assertEquals("2:41", OutputRecords.outputKey(record(null, null, new RecordHeaders())));
        assertArrayEquals(new byte[0], OutputRecords.outputKeyBytes(record(new byte[0], null, new RecordHeaders())));
        assertArrayEquals("2:41".getBytes(StandardCharsets.UTF_8), OutputRecords.outputKeyBytes(record(null, null, new RecordHeaders())));
    }

    @Test
    void aCloudEventsIdThatIsNotUtf8OrEmptyFallsBackToTheKey() {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Headers.CE_ID, new byte[] {(byte) 0xC0, (byte) 0xAF});
        assertEquals("k", OutputRecords.predictionId(record("k".getBytes(StandardCharsets.UTF_8), null, headers)));
        RecordHeaders empty = new RecordHeaders();
        empty.add(Headers.CE_ID, new byte[0]);
        assertEquals("k", OutputRecords.predictionId(record("k".getBytes(StandardCharsets.UTF_8), null, empty)));
        RecordHeaders none = new RecordHeaders();
        none.add(Headers.CE_ID, null);
        assertEquals("k", OutputRecords.predictionId(record("k".getBytes(StandardCharsets.UTF_8), null, none)));
    }

    @Test
    void aDeadLetterCarriesTheInputHeadersButOnlyItsOwnErrorAndSourceHeaders() {
        RecordHeaders headers = new RecordHeaders();
        headers.add("content-type", "image/png".getBytes(StandardCharsets.UTF_8));
        headers.add(Headers.ERROR_CLASS, "forged".getBytes(StandardCharsets.UTF_8));
        headers.add(Headers.SOURCE_OFFSET, "-1".getBytes(StandardCharsets.UTF_8));
        headers.add("x-null", null);
        ConsumerRecord<byte[], byte[]> in = record(null, null, headers);
        ProducerRecord<byte[], byte[]> dead = OutputRecords.deadLetter("dlq", in, new Rejection("empty", "zero bytes"));
        assertEquals(List.of("content-type", "x-null", Headers.ERROR_CLASS, Headers.ERROR_REASON, Headers.SOURCE_TOPIC,
                Headers.SOURCE_PARTITION, Headers.SOURCE_OFFSET), names(dead));
        assertEquals("empty", text(dead.headers().lastHeader(Headers.ERROR_CLASS)));
        assertEquals("41", text(dead.headers().lastHeader(Headers.SOURCE_OFFSET)));
        assertEquals(null, dead.key());
        assertEquals(null, dead.value());
    }

    @Test
    void aDeadLetterOverTheRecordLimitLeavesOutHeadersThenValueThenKeyAndSaysSo() {
        RecordHeaders headers = new RecordHeaders();
        headers.add("content-type", new byte[5000]);
        byte[] key = new byte[3000];
        byte[] value = new byte[20_000];
        ConsumerRecord<byte[], byte[]> in = record(key, value, headers);
        Rejection why = new Rejection("not-an-image", "the bytes do not start like an image");

        ProducerRecord<byte[], byte[]> whole = OutputRecords.deadLetter("dlq", in, why, 100_000);
        assertEquals(value, whole.value());
        assertEquals(5000, whole.headers().lastHeader("content-type").value().length);
        assertEquals(why.reason(), text(whole.headers().lastHeader(Headers.ERROR_REASON)));

        ProducerRecord<byte[], byte[]> noHeaders = OutputRecords.deadLetter("dlq", in, why, 25_000);
        assertEquals(value, noHeaders.value());
        assertEquals(null, noHeaders.headers().lastHeader("content-type"));
        assertTrue(text(noHeaders.headers().lastHeader(Headers.ERROR_REASON)).startsWith("[dead letter without its headers:"));

        ProducerRecord<byte[], byte[]> noValue = OutputRecords.deadLetter("dlq", in, why, 5_000);
        assertEquals(key, noValue.key());
        assertEquals(null, noValue.value());
        assertTrue(text(noValue.headers().lastHeader(Headers.ERROR_REASON))
                .startsWith("[dead letter without its headers and its 20000-byte value:"));
        ProducerRecord<byte[], byte[]> noValueNoHeaders = OutputRecords.deadLetter("dlq", record(key, value, new RecordHeaders()), why, 5_000);
        assertTrue(text(noValueNoHeaders.headers().lastHeader(Headers.ERROR_REASON)).startsWith("[dead letter without its 20000-byte value:"));

        ProducerRecord<byte[], byte[]> bare = OutputRecords.deadLetter("dlq", in, why, 1_000);
        assertEquals(null, bare.key());
        assertEquals(null, bare.value());
        assertTrue(text(bare.headers().lastHeader(Headers.ERROR_REASON))
                .startsWith("[dead letter without its headers, its 20000-byte value and its 3000-byte key:"));
        assertEquals("not-an-image", text(bare.headers().lastHeader(Headers.ERROR_CLASS)));
        assertEquals("41", text(bare.headers().lastHeader(Headers.SOURCE_OFFSET)));
        for (ProducerRecord<byte[], byte[]> r : List.of(whole, noHeaders, noValue, bare)) {
            assertTrue(text(r.headers().lastHeader(Headers.ERROR_REASON)).length() <= Rejection.MAX_REASON);
        }
        assertTrue(OutputRecords.estimatedSize(bare) < 1_000);
    }

    @Test
    void aPredictionWhoseKeyLeavesNoRoomIsKeyedByPartitionAndOffset() {
        Prediction p = Prediction.of("x", List.of(new Prediction.Scored("daisy", 0.9)), new ModelId("m", "v1", "abc"),
                Prediction.Source.record("images", 2, 41), 1.0);
        byte[] longKey = "k".repeat(10_000).getBytes(StandardCharsets.UTF_8);
        ConsumerRecord<byte[], byte[]> in = record(longKey, new byte[10], new RecordHeaders());
        assertEquals("2:41", OutputRecords.predictionId(in), "a key over " + OutputRecords.MAX_ID_BYTES + " bytes is no id");
        assertEquals(longKey, OutputRecords.prediction("out", in, p, 100_000).key());
        assertEquals("2:41", new String(OutputRecords.prediction("out", in, p, 10_000).key(), StandardCharsets.UTF_8));
        byte[] okKey = "k".repeat(OutputRecords.MAX_ID_BYTES).getBytes(StandardCharsets.UTF_8);
        assertEquals("k".repeat(OutputRecords.MAX_ID_BYTES), OutputRecords.predictionId(record(okKey, null, new RecordHeaders())));
    }

    @Test
    void aReasonIsOneShortPrintableLineWhateverWentIntoIt() {
        Rejection r = new Rejection(null, "line one\nline two \u00e9\u0000" + "x".repeat(100_000));
        assertEquals(Rejection.INTERNAL, r.errorClass());
        assertEquals(Rejection.MAX_REASON, r.reason().length());
        assertTrue(r.reason().chars().allMatch(c -> c >= 0x20 && c < 0x7F), r.reason());
        assertEquals("no detail", new Rejection("x", null).reason());
        assertEquals("no detail", new Rejection("x", "\u00e9\u00e9").reason());
    }

    @Test
    void claimChecksOutsideTheBucketOrMalformedAreRefusedBeforeAnyRequest() {
        assertEquals("claims/a.png", ClaimCheck.keyOf("s3://petal/claims/a.png", BUCKET));
        assertEquals("claims/r\u00f6se.png", ClaimCheck.keyOf("s3://petal/claims/r\u00f6se.png", BUCKET));
        assertEquals("a..b/c.png", ClaimCheck.keyOf("s3://petal/a..b/c.png", BUCKET));
        for (String ref : new String[] {null, "", "s3://petal/", "s3://other/claims/a.png", "S3://petal/a.png",
                "https://example.com/a.png", "file:///etc/passwd", "s3://petal", "s3://petalx/a.png", "s3://petal/../x/a.png",
                "s3://petal/claims/..", "s3://petal/./a.png", "s3://petal//a.png", "s3://petal/a\u0000.png",
                "s3://petal/a\nb", "s3://petal/a\uFFFDb.png", "s3://petal/" + "k".repeat(1025)}) {
            ImageInput.RejectedInputException e = assertThrows(ImageInput.RejectedInputException.class,
                    () -> ClaimCheck.keyOf(ref, BUCKET), String.valueOf(ref));
            assertEquals(Rejection.CLAIM_CHECK_REFUSED, e.rejection().errorClass(), String.valueOf(ref));
            assertTrue(e.rejection().reason().length() <= Rejection.MAX_REASON);
        }
        assertEquals("k".repeat(1024), ClaimCheck.keyOf("s3://petal/" + "k".repeat(1024), BUCKET));
    }

    private static ConsumerRecord<byte[], byte[]> record(byte[] key, byte[] value, RecordHeaders headers) {
        return new ConsumerRecord<>("images", 2, 41, 0L, TimestampType.CREATE_TIME, 0, 0, key, value, headers, Optional.empty());
    }

    private static List<String> names(ProducerRecord<byte[], byte[]> r) {
        List<String> names = new ArrayList<>();
        for (Header h : r.headers()) {
            names.add(h.key());
        }
        return names;
    }

    private static String text(Header h) {
        return new String(h.value(), StandardCharsets.UTF_8);
    }
}
