package dev.petal.common.image;

import dev.petal.common.records.ErrorReason;
import java.util.Locale;

/**
 * An input that is not a decodable image within the limits. {@link #errorClass()} is a short,
 * stable code for the {@code error-class} header of {@code petal.dlq}; {@link #reason()} is a
 * one-line, human explanation for {@code error-reason}.
 */
public final class RejectedImageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why an image was rejected. The codes are part of the contract: never rename one. */
    public enum Kind {
        /** Zero bytes. */
        EMPTY("empty"),
        /** More bytes than {@link ImageLimits#maxBytes()}. */
        TOO_LARGE("too-large"),
        /** The bytes do not start like any image format: text, HTML, random data, ... */
        NOT_AN_IMAGE("not-an-image"),
        /** A recognised image format Petal does not decode (TIFF, HEIC, AVIF, SVG, ...). */
        UNSUPPORTED_FORMAT("unsupported-format"),
        /** The image ends before its last marker or chunk: a partial upload or download. */
        TRUNCATED("truncated"),
        /** The header claims more pixels than {@link ImageLimits#maxPixels()}: a decompression bomb or simply too big. */
        TOO_MANY_PIXELS("too-many-pixels"),
        /** The format is recognised but the data cannot be decoded. */
        CORRUPT("corrupt");

        private final String code;

        Kind(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }

        public static Kind fromCode(String code) {
            for (Kind kind : values()) {
                if (kind.code.equals(code.trim().toLowerCase(Locale.ROOT))) {
                    return kind;
                }
            }
            throw new IllegalArgumentException("unknown image error class '" + code + "'");
        }
    }

    private final Kind kind;
    private final String reason;

    public RejectedImageException(Kind kind, String reason) {
        this(kind, reason, null);
    }

    public RejectedImageException(Kind kind, String reason, Throwable cause) {
        super(kind.code() + ": " + ErrorReason.oneLine(reason), cause);
        this.kind = kind;
        this.reason = ErrorReason.oneLine(reason);
    }

    public Kind kind() {
        return kind;
    }

    /** The stable code for the {@code error-class} header, e.g. {@code truncated}. */
    public String errorClass() {
        return kind.code();
    }

    /** One line of printable ASCII, at most 300 characters, fit for the {@code error-reason} header. */
    public String reason() {
        return reason;
    }

}
