package dev.petal.common.records;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;

/**
 * The one sanitiser for text that came from outside the service (a Kafka key, header, label or
 * model version, an object key, an HTTP request's value) before it reaches a log line, an error
 * message or a dead-letter header. Anyone who can write to a topic chooses these bytes: unfiltered,
 * a newline forges log lines, an ANSI escape rewrites the terminal, a bidi override reorders what an
 * operator reads, and a megabyte header floods the log.
 */
public final class UntrustedText {
    /** Longest text {@link #forLog} keeps, in characters. */
    public static final int MAX_LOG_LENGTH = 200;
    private static final char REPLACEMENT = '?';

    private UntrustedText() {}

    /**
     * One line for a log or an error message: letters, digits, punctuation and symbols of any script are
     * kept; control, format (bidi overrides, zero-width), separator, private-use and unpaired surrogate
     * characters become {@code ?}; more than {@value #MAX_LOG_LENGTH} characters are cut, ending in
     * {@code ...}. Null is {@code (none)}.
     */
    public static String forLog(String text) {
        return oneLine(text, MAX_LOG_LENGTH);
    }

    /** {@link #forLog(String)} with another length limit: for a message that also holds text of its own. */
    public static String oneLine(String text, int maxLength) {
        return text == null ? "(none)" : oneLine(text, maxLength, false);
    }

    private static String oneLine(String text, int maxLength, boolean cutBefore) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), maxLength) + 3);
        int i = 0;
        while (i < text.length() && out.length() < maxLength) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (safeInLog(cp)) {
                out.appendCodePoint(cp);
            } else {
                out.append(REPLACEMENT);
            }
        }
        if (i < text.length() || cutBefore) {
            out.append("...");
        }
        return out.toString();
    }

    /**
     * Whether {@code text} would pass {@link #forLog(String)}-style sanitising unchanged and fits {@code maxLength}:
     * for values kept as they are only when they are safe to show anywhere (a dataset's labels).
     */
    public static boolean isClean(String text, int maxLength) {
        return text != null && text.length() <= maxLength && text.codePoints().allMatch(UntrustedText::safeInLog);
    }

    /** {@link #forLog(String)} of bytes read as UTF-8 (what is not UTF-8 becomes {@code ?}); null is {@code (none)}. */
    public static String forLog(byte[] utf8) {
        if (utf8 == null) {
            return "(none)";
        }
        // Decode no more than can be shown: a 1 MB key costs no more than a short one.
        int take = Math.min(utf8.length, MAX_LOG_LENGTH * 4);
        String text = new String(utf8, 0, take, StandardCharsets.UTF_8);
        return oneLine(text, MAX_LOG_LENGTH, take < utf8.length);
    }

    /** Each value through {@link #forLog(String)}, for a list in a log line. */
    public static List<String> forLog(Collection<String> values) {
        return values.stream().map(UntrustedText::forLog).toList();
    }

    /**
     * Printable ASCII only (anything else becomes a space), trimmed, cut to {@code maxLength} characters:
     * for Kafka headers such as {@code error-reason}, which the contract keeps to one line of ASCII.
     * May be empty when nothing printable was left.
     */
    public static String printableAscii(String text, int maxLength) {
        if (text == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), maxLength));
        for (int i = 0; i < text.length() && out.length() < maxLength; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7F ? c : ' ');
        }
        return out.toString().trim();
    }

    private static boolean safeInLog(int cp) {
        if (cp >= 0x20 && cp < 0x7F) {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SPACE_SEPARATOR, Character.PRIVATE_USE, Character.SURROGATE, Character.UNASSIGNED -> false;
            default -> true;
        };
    }
}
