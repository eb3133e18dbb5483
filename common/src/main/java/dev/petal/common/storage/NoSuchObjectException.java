package dev.petal.common.storage;

/** The object (or its bucket) does not exist. */
public class NoSuchObjectException extends ObjectStoreException {

    public NoSuchObjectException(String operation, String bucket, String key, Throwable cause) {
        super(operation, bucket, key, cause);
    }
}
