package dev.petal.common.storage;

import java.nio.charset.StandardCharsets;

/**
 * References to objects in the configured bucket, {@code s3://<bucket>/<key>}, as records (claim-checks) and
 * training requests (initial weights) carry them. They are checked before any request is made: a value from
 * outside must not make a service read whatever it names. Refused: another scheme ({@code https://},
 * {@code file://}, a plain path), another bucket, an empty key, a key with {@code .} or {@code ..} segments or
 * a leading {@code /} (which an HTTP path could resolve into another bucket), a key of more than
 * {@value #MAX_KEY_BYTES} bytes (S3's limit), and a reference that was not valid UTF-8 or holds control characters.
 */
public final class BucketRefs {
    /** S3's longest key, in UTF-8 bytes. */
    public static final int MAX_KEY_BYTES = 1024;

    private BucketRefs() {}

    /** Whether {@code ref} is meant as an object reference (it may still be refused). */
    public static boolean isObjectRef(String ref) {
        return ref != null && ref.startsWith("s3://");
    }

    /**
     * Why {@code ref} does not name an object in {@code bucket}, as the end of a sentence about it ("is not in the
     * configured bucket"); null when it does.
     */
    public static String problem(String ref, String bucket) {
        String prefix = "s3://" + bucket + "/";
        if (ref == null || ref.isEmpty()) {
            return "is empty";
        }
        if (!ref.startsWith(prefix)) {
            return "is not in the configured bucket";
        }
        if (ref.length() == prefix.length()) {
            return "names no key";
        }
        if (!isClean(ref)) {
            return "is not valid UTF-8 or holds control characters";
        }
        String key = ref.substring(prefix.length());
        if (key.startsWith("/") || hasDotSegment(key)) {
            return "has a key with '.', '..' or empty leading segments";
        }
        if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            return "has a key longer than " + MAX_KEY_BYTES + " bytes";
        }
        return null;
    }

    /**
     * The key {@code ref} names in {@code bucket}.
     *
     * @throws IllegalArgumentException saying what is wrong (without quoting {@code ref})
     */
    public static String keyOf(String ref, String bucket) {
        String problem = problem(ref, bucket);
        if (problem != null) {
            throw new IllegalArgumentException("the reference must be s3://" + bucket + "/<key> (the configured bucket), and it "
                    + problem);
        }
        return ref.substring(("s3://" + bucket + "/").length());
    }

    private static boolean isClean(String ref) {
        for (int i = 0; i < ref.length(); i++) {
            char c = ref.charAt(i);
            if (c < 0x20 || c == 0x7F || c == '\uFFFD') { // U+FFFD: what bytes that are not UTF-8 decode to
                return false;
            }
        }
        return true;
    }

    private static boolean hasDotSegment(String key) {
        for (String segment : key.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                return true;
            }
        }
        return false;
    }
}
