package dev.petal.service.config;

import io.smallrye.config.ConfigMapping;
import java.util.Optional;

/**
 * The {@code petal.checkpoint.*} keys: the trainer signs the manifests it publishes, readers (inference and the
 * tools) verify them. Key formats: {@code hmac-sha256:<base64 secret>}, or {@code ed25519:<base64 DER key>}
 * (private to sign, public to verify); docs/security.md.
 */
@ConfigMapping(prefix = "petal.checkpoint")
public interface CheckpointKeys {
    String SIGNING_KEY = "petal.checkpoint.signing-key";
    String VERIFY_KEY = "petal.checkpoint.verify-key";

    /** Empty: versions are published unsigned. */
    Optional<String> signingKey();

    /** Empty: unsigned versions are accepted (their sha256 is still checked). */
    Optional<String> verifyKey();
}
