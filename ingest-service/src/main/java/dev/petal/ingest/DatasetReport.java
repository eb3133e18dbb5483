package dev.petal.ingest;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * The outcome of {@link DatasetIngest}.
 *
 * @param dataset    the dataset name written to every record
 * @param splits     label to split name to count, over every accepted image of the folder (new or
 *                   already in the topic)
 * @param rejections files that were not valid images
 * @param conflicts  the same bytes under two or more labels: none of them was published
 * @param ignored    files outside any class folder
 */
public record DatasetReport(String dataset, SortedMap<String, SortedMap<String, Integer>> splits,
                            List<Rejected> rejections, List<Conflict> conflicts, List<Path> ignored,
                            IngestSummary summary) {

    public record Rejected(String source, Rejection rejection) {}

    /** {@code sources} maps each path (or {@code petal.train:<source>} for an earlier run's record) to its label. */
    public record Conflict(String sha256, Map<String, String> sources) {}
}
