package dev.petal.inference.scoring;

/** Why an input could not be scored: a stable {@code error-class} code and a one-line reason. */
public record Rejection(String errorClass, String reason) {
    /** The claim-check object could not be read (missing, or storage unreachable). */
    public static final String CLAIM_CHECK_UNREACHABLE = "claim-check-unreachable";
    /** The claim-check points outside the configured bucket, or is not an s3:// URL. */
    public static final String CLAIM_CHECK_REFUSED = "claim-check-refused";
    /** Something unexpected failed while scoring this input; the reason says what. */
    public static final String INTERNAL = "internal-error";
}
