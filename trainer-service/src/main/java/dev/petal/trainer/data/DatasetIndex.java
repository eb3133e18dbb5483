package dev.petal.trainer.data;

import dev.petal.common.image.ImageDecoder;
import dev.petal.common.image.RejectedImageException;
import dev.petal.common.records.HeaderValues;
import dev.petal.common.records.Headers;
import dev.petal.common.records.UntrustedText;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * The dataset as it stands on the topic: for each usable record its partition, offset, label and
 * split, never the decoded pixels, so a dataset larger than memory trains. Encoded bytes are kept
 * while they fit {@code cacheBytes}; the rest is read back from Kafka batch by batch.
 *
 * <p>Labels map to outputs in sorted order; a dataset may hold at most {@code maxLabels} of them. Records of
 * any dataset without a label, with a label that is not 1-{@value #MAX_LABEL_LENGTH} characters free of
 * control and format characters, with an unknown split or whose bytes are not an acceptable image (checked
 * from the header only) are handed to the caller as {@link BadRecord}s as they are found, for the dead-letter
 * topic, and only counted here: a topic full of bad records costs no memory.
 */
public final class DatasetIndex {
    private static final Logger LOG = Logger.getLogger(DatasetIndex.class);
    static final String MISSING_LABEL = "missing-label";
    static final String BAD_LABEL = "bad-label";
    static final String BAD_SPLIT = "bad-split";
    /** Longest label, in characters: labels travel in every manifest, prediction and log line. */
    public static final int MAX_LABEL_LENGTH = 128;

    private final String topic;
    private final List<String> labels;
    private final List<Sample> train;
    private final List<Sample> valid;
    private final Map<Sample, byte[]> cache;
    private final Map<Integer, List<Long>> offsets;
    private final Map<String, Integer> badCounts;

    private DatasetIndex(String topic, List<String> labels, List<Sample> train, List<Sample> valid,
            Map<Sample, byte[]> cache, Map<Integer, List<Long>> offsets, Map<String, Integer> badCounts) {
        this.topic = topic;
        this.labels = labels;
        this.train = train;
        this.valid = valid;
        this.cache = cache;
        this.offsets = offsets;
        this.badCounts = badCounts;
    }

    /**
     * Reads {@code topic} from the start of each partition up to {@code endOffsets} (null: the end as
     * of now), with {@code consumer} assigned to no partitions.
     *
     * @param fixedLabels the output labels of a resumed run (records with other labels are bad), or null
     * @param dataset only records whose {@code dataset} header is this (null: every record)
     * @param maxLabels the most labels the dataset may have: more is an {@link IllegalStateException}
     * @param badRecords receives each record no run can use, as it is found (and keeps it no longer than it must)
     */
    public static DatasetIndex scan(Consumer<byte[], byte[]> consumer, String topic, Map<Integer, Long> endOffsets,
            List<String> fixedLabels, String dataset, ImageDecoder decoder, long cacheBytes, int maxLabels,
            java.util.function.Consumer<BadRecord> badRecords) {
        List<TopicPartition> partitions = new ArrayList<>();
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist: ingest a dataset first (./petal ingest dataset DIR)");
        }
        for (PartitionInfo info : infos) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        partitions.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
        Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions));
        if (endOffsets != null) {
            for (TopicPartition tp : partitions) {
                long wanted = endOffsets.getOrDefault(tp.partition(), begin.get(tp));
                if (wanted > end.get(tp) || wanted < begin.get(tp)) {
                    throw new IllegalStateException("the checkpoint trained on " + topic + "-" + tp.partition()
                            + " up to offset " + wanted + ", but the topic now holds [" + begin.get(tp) + ", " + end.get(tp) + ")");
                }
                end.put(tp, wanted);
            }
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);

        List<Raw> raws = new ArrayList<>();
        Map<String, Integer> bad = new LinkedHashMap<>();
        TreeSet<String> labelSet = new TreeSet<>();
        Map<TopicPartition, Long> remaining = new HashMap<>();
        for (TopicPartition tp : partitions) {
            if (end.get(tp) > begin.get(tp)) {
                remaining.put(tp, end.get(tp));
            } else {
                consumer.pause(List.of(tp));
            }
        }
        long cached = 0;
        int unknownLabels = 0;
        while (!remaining.isEmpty()) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                Long stop = remaining.get(tp);
                if (stop == null || r.offset() >= stop) {
                    continue;
                }
                if (r.offset() + 1 >= stop) {
                    remaining.remove(tp);
                    consumer.pause(List.of(tp));
                }
                String label = header(r, Headers.LABEL);
                String split = header(r, Headers.SPLIT);
                String ref = header(r, Headers.IMAGE_REF);
                // What makes a record useless to every run, whatever its dataset: it goes to the DLQ.
                String errorClass = labellingProblem(label, split);
                String problem = null;
                if (errorClass != null) {
                    problem = switch (errorClass) {
                        case MISSING_LABEL -> "no '" + Headers.LABEL + "' header";
                        case BAD_LABEL -> "the '" + Headers.LABEL + "' header is not 1-" + MAX_LABEL_LENGTH
                                + " characters free of control and format characters";
                        default -> "'" + Headers.SPLIT + "' header is '" + UntrustedText.forLog(split) + "', not train or valid";
                    };
                } else if (ref == null) {
                    try {
                        decoder.inspect(r.value());
                    } catch (RejectedImageException e) {
                        errorClass = e.errorClass();
                        problem = e.reason();
                    }
                }
                if (problem != null) {
                    bad.merge(errorClass, 1, Integer::sum);
                    badRecords.accept(new BadRecord(r.partition(), r.offset(), r.key(), r.value(), r.headers(), errorClass, problem));
                    continue;
                }
                if (dataset != null && !dataset.equals(header(r, Headers.DATASET))) {
                    continue; // another dataset on the same topic: not ours, not bad
                }
                if (fixedLabels != null && !fixedLabels.contains(label)) {
                    unknownLabels++; // a class the resumed model has no output for: a later run learns it
                    continue;
                }
                if (labelSet.add(label) && labelSet.size() > maxLabels) {
                    // The head's size, each manifest and each report grow with the labels: hostile or mistaken data
                    // must not make them unbounded. The labels themselves are not quoted: anyone can write them.
                    throw new IllegalStateException(topic + (dataset == null ? "" : " (dataset '" + dataset + "')")
                            + " holds more than " + maxLabels + " labels; raise petal.trainer.max-labels if that is meant");
                }
                byte[] keep = null;
                if (ref == null && cached + r.value().length <= cacheBytes) {
                    keep = r.value();
                    cached += keep.length;
                }
                raws.add(new Raw(r.partition(), r.offset(), label.intern(), Headers.SPLIT_VALID.equals(split), ref, keep));
            }
        }
        consumer.assign(List.of());

        List<String> labels = fixedLabels != null ? List.copyOf(fixedLabels) : List.copyOf(labelSet);
        Map<String, Integer> labelIndex = new HashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            labelIndex.put(labels.get(i), i);
        }
        // Sorted by (partition, offset): the index, and so each epoch's shuffle, does not depend on poll timing.
        raws.sort((a, b) -> a.partition != b.partition ? Integer.compare(a.partition, b.partition) : Long.compare(a.offset, b.offset));
        List<Sample> train = new ArrayList<>();
        List<Sample> valid = new ArrayList<>();
        Map<Sample, byte[]> cache = new HashMap<>();
        for (Raw raw : raws) {
            List<Sample> list = raw.valid ? valid : train;
            Sample s = new Sample(list.size(), raw.partition, raw.offset, labelIndex.get(raw.label), raw.ref);
            list.add(s);
            if (raw.bytes != null) {
                cache.put(s, raw.bytes);
            }
        }
        Map<Integer, List<Long>> ranges = new TreeMap<>();
        for (TopicPartition tp : partitions) {
            ranges.put(tp.partition(), List.of(begin.get(tp), end.get(tp)));
        }
        LOG.infof("dataset %s: %d train and %d valid images in %d classes %s, %d unusable records %s, %d MB of encoded images cached",
                topic, train.size(), valid.size(), labels.size(), UntrustedText.forLog(labels), total(bad), bad, cached >> 20);
        if (unknownLabels > 0) {
            LOG.infof("%d records with labels the resumed model does not have were left for a new run", unknownLabels);
        }
        return new DatasetIndex(topic, labels, Collections.unmodifiableList(train), Collections.unmodifiableList(valid),
                cache, Collections.unmodifiableMap(ranges), Collections.unmodifiableMap(bad));
    }

    private record Raw(int partition, long offset, String label, boolean valid, String ref, byte[] bytes) {}

    /** A header's text, trimmed; null when absent or not UTF-8. */
    public static String header(ConsumerRecord<?, ?> r, String name) {
        String value = HeaderValues.text(r, name);
        return value == null ? null : value.trim();
    }

    /**
     * Why a record's label and split headers make it unusable ({@code missing-label}, {@code bad-label},
     * {@code bad-split}), or null.
     */
    public static String labellingProblem(String label, String split) {
        if (label == null || label.isBlank()) {
            return MISSING_LABEL;
        }
        if (!isFitLabel(label)) {
            return BAD_LABEL;
        }
        return Headers.SPLIT_TRAIN.equals(split) || Headers.SPLIT_VALID.equals(split) ? null : BAD_SPLIT;
    }

    /**
     * At most {@value #MAX_LABEL_LENGTH} characters, each one {@link UntrustedText} shows as it is: labels travel to
     * manifests, predictions, reports and log lines unchanged.
     */
    static boolean isFitLabel(String label) {
        return UntrustedText.isClean(label, MAX_LABEL_LENGTH);
    }

    public String topic() {
        return topic;
    }

    public List<String> labels() {
        return labels;
    }

    public List<Sample> train() {
        return train;
    }

    public List<Sample> valid() {
        return valid;
    }

    /** The encoded bytes when cached, else null. */
    public byte[] cached(Sample sample) {
        return cache.get(sample);
    }

    /** What the cached encoded images take. */
    public long cachedBytes() {
        return cache.values().stream().mapToLong(b -> b.length).sum();
    }

    /** Partition to [first offset, end offset) of what was indexed. */
    public Map<Integer, List<Long>> offsets() {
        return offsets;
    }

    /** Records set aside, counted per error class. */
    public Map<String, Integer> badCounts() {
        return badCounts;
    }

    /** Records set aside in all. */
    public int badTotal() {
        return total(badCounts);
    }

    private static int total(Map<String, Integer> counts) {
        return counts.values().stream().mapToInt(Integer::intValue).sum();
    }
}
