package dev.petal.common.checkpoint;

import java.util.Locale;

/** A checkpoint whose files do not match its manifest, or whose manifest is unusable. */
public class CheckpointIntegrityException extends RuntimeException {
    /** Why a checkpoint was refused; {@link #tag()} names it in logs and metrics. */
    public enum Reason {
        /** A file's size or sha256 differs from the manifest. */
        SHA256,
        /** Unsigned, or a signature that does not verify, while a verify key is configured. */
        SIGNATURE,
        /** The weights do not fit the architecture or label count the manifest names. */
        SHAPE,
        /** A manifest or file outside the model's {@code models/<name>/} prefix. */
        OUTSIDE_PREFIX,
        /** An unreadable or incomplete manifest. */
        MANIFEST;

        public String tag() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    private final Reason reason;

    public CheckpointIntegrityException(String message) {
        this(Reason.MANIFEST, message);
    }

    public CheckpointIntegrityException(String message, Throwable cause) {
        this(Reason.MANIFEST, message, cause);
    }

    public CheckpointIntegrityException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public CheckpointIntegrityException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
