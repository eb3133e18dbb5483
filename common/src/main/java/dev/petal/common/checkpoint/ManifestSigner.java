package dev.petal.common.checkpoint;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs checkpoint manifests with the key of {@code petal.checkpoint.signing-key}: an HMAC-SHA256
 * secret ({@code hmac-sha256:<base64>}) or an Ed25519 private key ({@code ed25519:<base64 DER PKCS#8>},
 * as {@code openssl pkey -outform DER | base64 -w0} prints it). The signature, {@code <algorithm>:<base64>},
 * covers {@link CanonicalManifest#of(CheckpointManifest) the manifest without its signature field}.
 * Both algorithms are deterministic: signing the same manifest twice gives the same bytes, so a retried
 * publish still finds its manifest identical. Thread-safe.
 */
public final class ManifestSigner {
    private final String algorithm;
    private final SecretKeySpec hmacKey;
    private final PrivateKey privateKey;

    private ManifestSigner(String algorithm, SecretKeySpec hmacKey, PrivateKey privateKey) {
        this.algorithm = algorithm;
        this.hmacKey = hmacKey;
        this.privateKey = privateKey;
    }

    /**
     * Parses {@code hmac-sha256:<base64 secret>} or {@code ed25519:<base64 DER PKCS#8 private key>}.
     *
     * @throws IllegalArgumentException naming what is wrong with the key (never the key itself)
     */
    public static ManifestSigner parse(String key) {
        ManifestKeys.Split split = ManifestKeys.split(key, ManifestKeys.SIGNING_FORMS);
        return split.algorithm().equals(ManifestKeys.HMAC)
                ? new ManifestSigner(ManifestKeys.HMAC, ManifestKeys.hmacKey(split.bytes()), null)
                : new ManifestSigner(ManifestKeys.ED25519, null, ManifestKeys.ed25519Private(split.bytes()));
    }

    /**
     * The signer a configuration value asks for: empty when the value is unset or blank (publish
     * unsigned). A malformed value fails with a message that starts with {@code configKey}.
     */
    public static Optional<ManifestSigner> fromConfig(String configKey, String value) {
        return ManifestKeys.fromConfig(configKey, value, ManifestSigner::parse);
    }

    /** {@code hmac-sha256} or {@code ed25519}. */
    public String algorithm() {
        return algorithm;
    }

    /** {@code manifest} with its {@code signature} set (any previous one replaced). */
    public CheckpointManifest sign(CheckpointManifest manifest) {
        return manifest.withSignature(signatureOf(manifest));
    }

    /** The signature of {@code manifest} (its own signature field left out), as {@code <algorithm>:<base64>}. */
    public String signatureOf(CheckpointManifest manifest) {
        return algorithm + ":" + Base64.getEncoder().encodeToString(sign(CanonicalManifest.of(manifest)));
    }

    byte[] sign(byte[] data) {
        try {
            if (hmacKey != null) {
                Mac mac = Mac.getInstance(ManifestKeys.HMAC_JCA);
                mac.init(hmacKey);
                return mac.doFinal(data);
            }
            Signature signature = Signature.getInstance("Ed25519");
            signature.initSign(privateKey);
            signature.update(data);
            return signature.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with " + algorithm + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "ManifestSigner[" + algorithm + "]";
    }
}
