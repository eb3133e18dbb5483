package dev.petal.common.records;

/** The text of an {@code error-reason} header: one line of printable ASCII, whatever an input put into it. */
public final class ErrorReason {
    /** Longest reason, in characters. */
    public static final int MAX_LENGTH = 300;

    private ErrorReason() {}

    /**
     * Printable ASCII only (anything else becomes a space), trimmed, cut to {@value #MAX_LENGTH}
     * characters ({@link UntrustedText#printableAscii}); "no detail" for null or blank text. May be empty
     * when nothing printable was left.
     */
    public static String oneLine(String text) {
        if (text == null || text.isBlank()) {
            return "no detail";
        }
        return UntrustedText.printableAscii(text, MAX_LENGTH);
    }
}
