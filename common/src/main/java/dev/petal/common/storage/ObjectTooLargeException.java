package dev.petal.common.storage;

/** An object larger than the caller accepts; its body was not read. */
public final class ObjectTooLargeException extends RuntimeException {
    private final long bytes;
    private final long limit;

    public ObjectTooLargeException(String bucket, String key, long bytes, long limit) {
        super("s3://" + bucket + "/" + key + (bytes >= 0 ? " holds " + bytes + " bytes," : " holds") + " more than the limit of "
                + limit + " bytes");
        this.bytes = bytes;
        this.limit = limit;
    }

    /** The object's size, or -1 when the response did not say. */
    public long bytes() {
        return bytes;
    }

    public long limit() {
        return limit;
    }
}
