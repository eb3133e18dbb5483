package dev.petal.common.storage;

/** An object-store operation failed; the message names the operation, bucket and key. */
public class ObjectStoreException extends RuntimeException {

    private final String bucket;
    private final String key;

    public ObjectStoreException(String operation, String bucket, String key, Throwable cause) {
        super(operation + " s3://" + bucket + "/" + (key == null ? "" : key) + " failed"
                + (cause == null ? "" : ": " + cause.getMessage()), cause);
        this.bucket = bucket;
        this.key = key;
    }

    public String bucket() {
        return bucket;
    }

    /** The object key, or {@code null} for bucket-level operations. */
    public String key() {
        return key;
    }
}
