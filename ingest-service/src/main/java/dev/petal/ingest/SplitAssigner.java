package dev.petal.ingest;

import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.records.Headers;
import java.nio.charset.StandardCharsets;

/**
 * Assigns an image to {@code train} or {@code valid} from its content hash and a seed alone, so the
 * answer never depends on file order, timing, which other files exist, or the machine: re-running,
 * adding files or ingesting elsewhere keeps every image where it was. The fraction is met in
 * expectation (each image is an independent draw), not exactly per class.
 */
public final class SplitAssigner {
    private final long seed;
    private final double validFraction;

    public SplitAssigner(long seed, double validFraction) {
        if (!(validFraction >= 0 && validFraction <= 1)) {
            throw new IllegalArgumentException("valid fraction must be within [0, 1], was " + validFraction);
        }
        this.seed = seed;
        this.validFraction = validFraction;
    }

    /** {@link Headers#SPLIT_VALID} or {@link Headers#SPLIT_TRAIN} for the image whose sha256 (hex) is given. */
    public String splitOf(String sha256Hex) {
        return draw(sha256Hex) < validFraction ? Headers.SPLIT_VALID : Headers.SPLIT_TRAIN;
    }

    /** A uniform number in [0, 1) derived from sha256(seed ":" content hash). */
    double draw(String sha256Hex) {
        byte[] digest = Sha256.newDigest().digest((seed + ":" + sha256Hex).getBytes(StandardCharsets.US_ASCII));
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits = (bits << 8) | (digest[i] & 0xFF);
        }
        return (bits >>> 11) * 0x1.0p-53;
    }
}
