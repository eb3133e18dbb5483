package dev.petal.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.image.ImageDecoder;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** Hostile data on petal.train stays bounded: bad records are streamed out, not kept; labels are few and short. */
class DatasetIndexLimitsTest {
    private static final TopicPartition TP = new TopicPartition(Topics.TRAIN, 0);
    private static final byte[] PNG = png();

    private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();

    private void add(String label, String split, byte[] value) {
        RecordHeaders headers = new RecordHeaders();
        if (label != null) {
            headers.add(Headers.LABEL, label.getBytes(StandardCharsets.UTF_8));
        }
        headers.add(Headers.SPLIT, split.getBytes(StandardCharsets.UTF_8));
        records.add(new ConsumerRecord<>(TP.topic(), 0, records.size(), 0L, TimestampType.CREATE_TIME, 0, 0,
                ("k" + records.size()).getBytes(StandardCharsets.UTF_8), value, headers, java.util.Optional.empty()));
    }

    private DatasetIndex scan(int maxLabels, java.util.function.Consumer<BadRecord> bad) {
        MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
        consumer.updatePartitions(TP.topic(), List.of(new PartitionInfo(TP.topic(), 0, Node.noNode(), new Node[0], new Node[0])));
        consumer.updateBeginningOffsets(Map.of(TP, 0L));
        consumer.updateEndOffsets(Map.of(TP, (long) records.size()));
        List<ConsumerRecord<byte[], byte[]>> pending = new ArrayList<>(records);
        records.clear(); // the consumer holds them now, until they are polled
        consumer.schedulePollTask(() -> {
            pending.forEach(consumer::addRecord);
            pending.clear();
        });
        return DatasetIndex.scan(consumer, TP.topic(), null, null, null, new ImageDecoder(ImageLimits.defaults()), 0, maxLabels, bad);
    }

    @Test
    void badRecordsAreHandedOnAsTheyAreFoundAndNotKept() {
        int badCount = 200;
        for (int i = 0; i < badCount; i++) {
            add(i % 2 == 0 ? "daisy" : null, "train", new byte[64 * 1024]); // not images, or unlabelled: 12.5 MB in all
        }
        add("daisy", "train", PNG);
        add("rose", "valid", PNG);
        List<WeakReference<byte[]>> seen = new ArrayList<>();
        DatasetIndex index = scan(10, bad -> seen.add(new WeakReference<>(bad.value())));
        assertEquals(badCount, seen.size(), "every bad record reached the dead-letter sink");
        assertEquals(badCount, index.badTotal());
        assertEquals(Map.of("not-an-image", badCount / 2, "missing-label", badCount / 2), index.badCounts());
        assertEquals(List.of("daisy", "rose"), index.labels());
        // Nothing keeps the bad records' bytes once the sink let go: the index only counted them.
        for (int attempt = 0; attempt < 20 && seen.stream().anyMatch(r -> r.get() != null); attempt++) {
            System.gc();
        }
        assertTrue(seen.stream().allMatch(r -> r.get() == null), "the index still holds bad records' bytes");
        assertEquals(2, index.train().size() + index.valid().size());
    }

    @Test
    void moreLabelsThanTheLimitFailTheRunWithoutQuotingThem() {
        for (int i = 0; i < 5; i++) {
            add("label-" + i + "-secret", "train", PNG);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> scan(4, bad -> { }));
        assertTrue(e.getMessage().contains("more than 4 labels") && e.getMessage().contains("petal.trainer.max-labels"), e.getMessage());
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
        for (int i = 0; i < 4; i++) {
            add("label-" + i, "train", PNG);
        }
        assertEquals(4, scan(4, bad -> { }).labels().size(), "exactly the limit is fine");
    }

    @Test
    void labelsThatAreLongOrHoldControlOrFormatCharactersAreBadRecords() {
        add("x".repeat(DatasetIndex.MAX_LABEL_LENGTH + 1), "train", PNG);
        add("rose\nINFO forged log line", "train", PNG);
        add("tulip\u202e", "train", PNG);
        add("l\u00f6wenzahn", "train", PNG);
        add("x".repeat(DatasetIndex.MAX_LABEL_LENGTH), "train", PNG);
        List<BadRecord> bad = new ArrayList<>();
        DatasetIndex index = scan(10, bad::add);
        assertEquals(List.of("bad-label", "bad-label", "bad-label"), bad.stream().map(BadRecord::errorClass).toList());
        assertEquals(List.of("l\u00f6wenzahn", "x".repeat(DatasetIndex.MAX_LABEL_LENGTH)), index.labels());
        assertTrue(bad.get(1).reason().contains("1-" + DatasetIndex.MAX_LABEL_LENGTH), bad.get(1).reason());
        assertFalse(bad.get(1).reason().contains("forged"), "the reason does not quote the label: " + bad.get(1).reason());
    }

    private static byte[] png() {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", out);
            return out.toByteArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
