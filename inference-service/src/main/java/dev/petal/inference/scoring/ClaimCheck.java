package dev.petal.inference.scoring;

import dev.petal.common.storage.NoSuchObjectException;
import dev.petal.common.storage.ObjectStoreException;
import dev.petal.inference.Storage;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Reads an {@code image-ref: s3://bucket/key} claim-check. Only the configured bucket is read:
 * a record must not make the service fetch whatever it names.
 */
@ApplicationScoped
public class ClaimCheck {
    private final Storage storage;

    public ClaimCheck(Storage storage) {
        this.storage = storage;
    }

    public ImageInput input(String ref) {
        return () -> fetch(ref);
    }

    byte[] fetch(String ref) {
        String bucket = storage.settings().bucket();
        String prefix = "s3://" + bucket + "/";
        if (ref == null || !ref.startsWith(prefix) || ref.length() == prefix.length() || ref.contains("/../")) {
            throw new ImageInput.RejectedInputException(new Rejection(Rejection.CLAIM_CHECK_REFUSED,
                    "image-ref must be s3://" + bucket + "/<key> (the configured bucket), was " + printable(ref)));
        }
        String key = ref.substring(prefix.length());
        try {
            return storage.objects().get(key);
        } catch (NoSuchObjectException e) {
            throw new ImageInput.RejectedInputException(new Rejection(Rejection.CLAIM_CHECK_UNREACHABLE,
                    "no object at " + ref));
        } catch (ObjectStoreException | IllegalArgumentException e) {
            throw new ImageInput.RejectedInputException(new Rejection(Rejection.CLAIM_CHECK_UNREACHABLE,
                    "cannot read " + ref + ": " + e.getMessage()));
        }
    }

    private static String printable(String ref) {
        if (ref == null) {
            return "nothing";
        }
        String cut = ref.length() > 200 ? ref.substring(0, 200) + "..." : ref;
        return cut.replaceAll("[^\\x20-\\x7E]", "?");
    }
}
