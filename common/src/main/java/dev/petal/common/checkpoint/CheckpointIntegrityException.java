package dev.petal.common.checkpoint;

/** A checkpoint whose files do not match its manifest, or whose manifest is unusable. */
public class CheckpointIntegrityException extends RuntimeException {
    public CheckpointIntegrityException(String message) {
        super(message);
    }

    public CheckpointIntegrityException(String message, Throwable cause) {
        super(message, cause);
    }
}
