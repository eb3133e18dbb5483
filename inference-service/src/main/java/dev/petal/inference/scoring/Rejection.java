package dev.petal.inference.scoring;

import dev.petal.common.records.ErrorReason;

/**
 * Why an input could not be scored: a stable {@code error-class} code and a one-line reason. Both
 * end up in {@code petal.dlq} headers, so the reason is kept to one line of printable ASCII of at
 * most {@value #MAX_REASON} characters, whatever an input (a 100 KB {@code image-ref}, bytes that
 * are not UTF-8) put into it.
 */
public record Rejection(String errorClass, String reason) {
    /** The claim-check object could not be read (missing, or storage unreachable). */
    public static final String CLAIM_CHECK_UNREACHABLE = "claim-check-unreachable";
    /** The claim-check points outside the configured bucket, or is not an s3:// URL. */
    public static final String CLAIM_CHECK_REFUSED = "claim-check-refused";
    /** Something unexpected failed while scoring this input; the reason says what. */
    public static final String INTERNAL = "internal-error";
    /** Longest {@code error-reason}, in characters. */
    public static final int MAX_REASON = ErrorReason.MAX_LENGTH;

    public Rejection {
        errorClass = errorClass == null || errorClass.isBlank() ? INTERNAL : errorClass;
        reason = oneLine(reason);
    }

    /** {@link ErrorReason#oneLine}, never empty: a reason with nothing printable in it says so. */
    static String oneLine(String text) {
        String line = ErrorReason.oneLine(text);
        return line.isEmpty() ? "no detail" : line;
    }
}
