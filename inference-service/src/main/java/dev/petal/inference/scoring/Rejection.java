package dev.petal.inference.scoring;

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
    public static final int MAX_REASON = 300;

    public Rejection {
        errorClass = errorClass == null || errorClass.isBlank() ? INTERNAL : errorClass;
        reason = oneLine(reason);
    }

    /** Printable ASCII only (anything else becomes a space), trimmed, cut to {@value #MAX_REASON} characters. */
    static String oneLine(String text) {
        if (text == null || text.isBlank()) {
            return "no detail";
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_REASON));
        for (int i = 0; i < text.length() && out.length() < MAX_REASON; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7F ? c : ' ');
        }
        String line = out.toString().trim();
        return line.isEmpty() ? "no detail" : line;
    }
}
