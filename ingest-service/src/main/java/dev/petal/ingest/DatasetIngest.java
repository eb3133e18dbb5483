package dev.petal.ingest;

import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.records.KafkaClients;
import dev.petal.ingest.DatasetReport.Conflict;
import dev.petal.ingest.DatasetReport.Rejected;
import dev.petal.ingest.DatasetScanner.DatasetFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Publishes a class-folder dataset to {@code petal.train}: every valid image once, keyed by its
 * sha256, labelled with its folder and assigned to train/valid by {@link SplitAssigner}.
 *
 * <p>Two passes: the first hashes and validates every file, so that duplicates and label conflicts
 * are known for the whole folder (and against what the topic already holds) before anything is
 * sent; the second publishes what is new. Bad files are reported and skipped, never fatal.
 */
public final class DatasetIngest {

    /** @param dataset the dataset name, or {@code null} for the folder's name */
    public record Options(Path root, String dataset, double validFraction, long seed) {}

    private record Candidate(DatasetFile file, String sha256, long size, ImageFacts facts) {}

    private final IngestSettings settings;
    private final KafkaClients kafka;
    private final ImageCheck check;
    private final Supplier<ImagePublisher> publishers;

    /** @param publishers a publisher for the run, asked for once the dataset is checked */
    public DatasetIngest(IngestSettings settings, KafkaClients kafka, ImageCheck check, Supplier<ImagePublisher> publishers) {
        this.settings = settings;
        this.kafka = kafka;
        this.check = check;
        this.publishers = publishers;
    }

    public DatasetReport run(Options options) {
        long start = System.nanoTime();
        Path root = options.root();
        String dataset = options.dataset() != null ? options.dataset() : root.toAbsolutePath().normalize().getFileName().toString();
        SplitAssigner splits = new SplitAssigner(options.seed(), options.validFraction());
        DatasetScanner.Scan scan = DatasetScanner.scan(root);

        // Fail fast on an unreachable broker, before minutes of hashing.
        TopicProvisioner.ensure(settings, kafka, Topics.TRAIN);
        TrainTopicIndex existing = TrainTopicIndex.read(settings, kafka, Topics.TRAIN);

        List<Rejected> rejections = new ArrayList<>();
        Map<String, List<Candidate>> bySha = new LinkedHashMap<>();
        int[] next = {0};
        try (FileInspector inspector = new FileInspector(check, settings.threads(), sha -> existing.get(dataset, sha) != null);
             ProgressReporter progress = ProgressReporter.forConsole("checking", scan.files().size(), "files", settings.progressInterval())) {
            inspector.inspect(scan.files().stream().map(DatasetFile::path).toList(), inspected -> {
                DatasetFile file = scan.files().get(next[0]++); // results arrive in input order
                if (inspected.accepted()) {
                    bySha.computeIfAbsent(inspected.sha256(), k -> new ArrayList<>())
                            .add(new Candidate(file, inspected.sha256(), inspected.size(), inspected.facts()));
                } else {
                    rejections.add(new Rejected(file.source(), inspected.rejection()));
                }
                progress.advance(1);
            });
        }

        List<Candidate> toPublish = new ArrayList<>();
        List<Conflict> conflicts = new ArrayList<>();
        SortedMap<String, SortedMap<String, Integer>> splitCounts = new TreeMap<>();
        long duplicates = 0;
        long conflicted = 0;
        for (Map.Entry<String, List<Candidate>> group : bySha.entrySet()) {
            List<Candidate> same = group.getValue();
            TrainTopicIndex.Entry known = existing.get(dataset, group.getKey());
            Set<String> labels = new LinkedHashSet<>();
            if (known != null) {
                labels.add(known.label());
            }
            same.forEach(c -> labels.add(c.file().label()));
            if (labels.size() > 1) {
                Map<String, String> sources = new LinkedHashMap<>();
                if (known != null) {
                    sources.put(Topics.TRAIN + ":" + known.source(), known.label());
                }
                same.forEach(c -> sources.put(c.file().source(), c.file().label()));
                conflicts.add(new Conflict(group.getKey(), sources));
                conflicted += same.size();
                continue;
            }
            String split = known != null && known.split() != null ? known.split() : splits.splitOf(group.getKey());
            splitCounts.computeIfAbsent(same.get(0).file().label(), k -> new TreeMap<>()).merge(split, 1, Integer::sum);
            if (known == null) {
                toPublish.add(same.get(0));
                duplicates += same.size() - 1;
            } else {
                duplicates += same.size();
            }
        }

        long published = 0;
        long bytes = 0;
        try (ImagePublisher publisher = publishers.get();
             ProgressReporter progress = ProgressReporter.forConsole("publishing", toPublish.size(), "images", settings.progressInterval())) {
            for (Candidate c : toPublish) {
                byte[] content = reread(c, rejections);
                if (content == null) {
                    continue;
                }
                publisher.send(Topics.TRAIN, c.sha256(), content, c.sha256(), headers(c, dataset, splits));
                published++;
                bytes += content.length;
                progress.advance(1);
            }
            publisher.flush();
        }
        long rejected = rejections.size() + conflicted;
        IngestSummary summary = new IngestSummary(published, duplicates, rejected, bytes, (System.nanoTime() - start) / 1e9);
        return new DatasetReport(dataset, splitCounts, List.copyOf(rejections), List.copyOf(conflicts), scan.ignored(), summary);
    }

    private static Map<String, String> headers(Candidate c, String dataset, SplitAssigner splits) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(Headers.LABEL, c.file().label());
        headers.put(Headers.SPLIT, splits.splitOf(c.sha256()));
        headers.put(Headers.DATASET, dataset);
        headers.put(Headers.CONTENT_TYPE, c.facts().contentType());
        headers.put(Headers.SOURCE, c.file().source());
        headers.put(Headers.COLOR_MODEL, c.facts().colorModel());
        return headers;
    }

    /** The bytes validated in the first pass, or {@code null} (and a rejection) if the file changed since. */
    private static byte[] reread(Candidate c, List<Rejected> rejections) {
        try {
            byte[] content = Files.readAllBytes(c.file().path());
            if (content.length == c.size() && Sha256.hex(content).equals(c.sha256())) {
                return content;
            }
        } catch (IOException e) {
            // reported below like any other change
        }
        rejections.add(new Rejected(c.file().source(), new Rejection(Rejection.CHANGED,
                "the file changed or vanished between validation and publishing")));
        return null;
    }
}
