package dev.petal.inference.scoring;

import dev.petal.common.image.RejectedImageException;
import dev.petal.common.storage.NoSuchObjectException;
import dev.petal.common.storage.ObjectStoreException;
import dev.petal.common.storage.ObjectTooLargeException;
import dev.petal.inference.Storage;
import dev.petal.service.config.ImageConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;

/**
 * Reads an {@code image-ref: s3://bucket/key} claim-check. Only the configured bucket is read:
 * a record must not make the service fetch whatever it names. Refused ({@code claim-check-refused}),
 * before any request is made: another scheme ({@code https://}, {@code file://}, ...), another
 * bucket, an empty key, a key with {@code .} or {@code ..} segments or a leading {@code /} (which
 * an HTTP path could resolve into another bucket), a key of more than 1024 bytes (S3's limit), and a
 * ref that was not valid UTF-8 or holds control characters.
 */
@ApplicationScoped
public class ClaimCheck {
    /** S3's longest key, in UTF-8 bytes. */
    static final int MAX_KEY_BYTES = 1024;

    private final Storage storage;
    private final long maxBytes;

    @Inject
    public ClaimCheck(Storage storage, ImageConfig images) {
        this(storage, images.maxBytes());
    }

    ClaimCheck(Storage storage, long maxBytes) {
        this.storage = storage;
        this.maxBytes = maxBytes;
    }

    public ImageInput input(String ref) {
        return () -> fetch(ref);
    }

    byte[] fetch(String ref) {
        String key = keyOf(ref, storage.settings().bucket());
        try {
            // Bounded: an object over the image limit is refused from its length, never downloaded.
            return storage.objects().get(key, maxBytes);
        } catch (ObjectTooLargeException e) {
            throw new RejectedImageException(RejectedImageException.Kind.TOO_LARGE, e.getMessage());
        } catch (NoSuchObjectException e) {
            throw new ImageInput.RejectedInputException(new Rejection(Rejection.CLAIM_CHECK_UNREACHABLE,
                    "no object at " + printable(ref)));
        } catch (ObjectStoreException | IllegalArgumentException e) {
            throw new ImageInput.RejectedInputException(new Rejection(Rejection.CLAIM_CHECK_UNREACHABLE,
                    "cannot read " + printable(ref) + ": " + e.getMessage()));
        }
    }

    /** The object key that {@code ref} names in {@code bucket}; throws a {@code claim-check-refused} rejection otherwise. */
    static String keyOf(String ref, String bucket) {
        String prefix = "s3://" + bucket + "/";
        String problem = null;
        if (ref == null || ref.isEmpty()) {
            problem = "is empty";
        } else if (!ref.startsWith(prefix)) {
            problem = "is not in the configured bucket";
        } else if (ref.length() == prefix.length()) {
            problem = "names no key";
        } else if (!isClean(ref)) {
            problem = "is not valid UTF-8 or holds control characters";
        } else {
            String key = ref.substring(prefix.length());
            if (key.startsWith("/") || hasDotSegment(key)) {
                problem = "has a key with '.', '..' or empty leading segments";
            } else if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
                problem = "has a key longer than " + MAX_KEY_BYTES + " bytes";
            } else {
                return key;
            }
        }
        String what = ref == null ? "an image-ref header without a value" : ref.isEmpty() ? "an empty image-ref" : printable(ref);
        throw new ImageInput.RejectedInputException(new Rejection(Rejection.CLAIM_CHECK_REFUSED,
                "image-ref must be s3://" + bucket + "/<key> (the configured bucket): " + what
                        + (ref == null || ref.isEmpty() ? "" : " " + problem)));
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

    /** At most 200 characters of printable ASCII, for a reason line. */
    static String printable(String ref) {
        if (ref == null) {
            return "nothing";
        }
        String cut = ref.length() > 200 ? ref.substring(0, 200) + "..." : ref;
        return cut.replaceAll("[^\\x20-\\x7E]", "?");
    }
}
