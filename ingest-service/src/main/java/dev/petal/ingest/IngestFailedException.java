package dev.petal.ingest;

/** Ingestion itself failed (broker or object store unreachable, a send failed): exit code 1, nothing to retry per file. */
public class IngestFailedException extends RuntimeException {
    public IngestFailedException(String message, Throwable cause) {
        super(message, cause);
    }

    public IngestFailedException(String message) {
        super(message);
    }
}
