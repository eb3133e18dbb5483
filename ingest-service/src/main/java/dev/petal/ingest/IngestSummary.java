package dev.petal.ingest;

/**
 * The closing line of every ingest run.
 *
 * @param published  records written to the target topic
 * @param duplicates files skipped because their bytes were already published (or repeat within the run)
 * @param rejected   files not published: invalid images, unreadable files, label conflicts
 * @param bytes      image bytes published (inline or by claim-check)
 * @param seconds    wall time of the run
 */
public record IngestSummary(long published, long duplicates, long rejected, long bytes, double seconds) {

    /** 0 when everything was published or already there, 3 when some inputs were rejected. */
    public int exitCode() {
        return rejected == 0 ? 0 : 3;
    }

    public double imagesPerSecond() {
        return seconds > 0 ? (published + duplicates + rejected) / seconds : 0;
    }

    public double megabytesPerSecond() {
        return seconds > 0 ? bytes / 1e6 / seconds : 0;
    }
}
