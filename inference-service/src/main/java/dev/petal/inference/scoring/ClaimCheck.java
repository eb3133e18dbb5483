package dev.petal.inference.scoring;

import dev.petal.common.image.RejectedImageException;
import dev.petal.common.records.UntrustedText;
import dev.petal.common.storage.BucketRefs;
import dev.petal.common.storage.NoSuchObjectException;
import dev.petal.common.storage.ObjectStoreException;
import dev.petal.common.storage.ObjectTooLargeException;
import dev.petal.service.Storage;
import dev.petal.service.config.ImageConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Reads an {@code image-ref: s3://bucket/key} claim-check. Only the configured bucket is read:
 * a record must not make the service fetch whatever it names. What {@link BucketRefs} refuses is refused
 * here ({@code claim-check-refused}) before any request is made: another scheme ({@code https://},
 * {@code file://}, ...), another bucket, an empty key, a key with {@code .} or {@code ..} segments or a
 * leading {@code /}, a key of more than 1024 bytes, and a ref that was not valid UTF-8 or holds control characters.
 */
@ApplicationScoped
public class ClaimCheck {
    /** S3's longest key, in UTF-8 bytes. */
    static final int MAX_KEY_BYTES = BucketRefs.MAX_KEY_BYTES;

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
        String problem = BucketRefs.problem(ref, bucket);
        if (problem == null) {
            return BucketRefs.keyOf(ref, bucket);
        }
        String what = ref == null ? "an image-ref header without a value" : ref.isEmpty() ? "an empty image-ref" : printable(ref);
        throw new ImageInput.RejectedInputException(new Rejection(Rejection.CLAIM_CHECK_REFUSED,
                "image-ref must be s3://" + bucket + "/<key> (the configured bucket): " + what
                        + (ref == null || ref.isEmpty() ? "" : " " + problem)));
    }

    /** At most 200 characters of printable ASCII, for a reason line: through the one sanitiser, {@link UntrustedText}. */
    static String printable(String ref) {
        if (ref == null) {
            return "nothing";
        }
        return UntrustedText.printableAscii(UntrustedText.forLog(ref), UntrustedText.MAX_LOG_LENGTH + 3);
    }
}
