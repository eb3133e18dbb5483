package dev.petal.common.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointIntegrityException.Reason;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks manifest signatures with the key of {@code petal.checkpoint.verify-key}: the HMAC-SHA256
 * secret the trainer signs with ({@code hmac-sha256:<base64>}), or the Ed25519 public key of the
 * trainer's private key ({@code ed25519:<base64 DER X.509>}, as
 * {@code openssl pkey -pubout -outform DER | base64 -w0} prints it). An unsigned manifest, one signed
 * with the other algorithm and one whose signature does not match are all refused with
 * {@link CheckpointIntegrityException.Reason#SIGNATURE}. Only the configured algorithm is ever used.
 * Thread-safe.
 */
public final class ManifestVerifier {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String algorithm;
    private final SecretKeySpec hmacKey;
    private final PublicKey publicKey;

    private ManifestVerifier(String algorithm, SecretKeySpec hmacKey, PublicKey publicKey) {
        this.algorithm = algorithm;
        this.hmacKey = hmacKey;
        this.publicKey = publicKey;
    }

    /**
     * Parses {@code hmac-sha256:<base64 secret>} or {@code ed25519:<base64 DER X.509 public key>}.
     *
     * @throws IllegalArgumentException naming what is wrong with the key (never the key itself)
     */
    public static ManifestVerifier parse(String key) {
        ManifestKeys.Split split = ManifestKeys.split(key, ManifestKeys.VERIFY_FORMS);
        return split.algorithm().equals(ManifestKeys.HMAC)
                ? new ManifestVerifier(ManifestKeys.HMAC, ManifestKeys.hmacKey(split.bytes()), null)
                : new ManifestVerifier(ManifestKeys.ED25519, null, ManifestKeys.ed25519Public(split.bytes()));
    }

    /**
     * The verifier a configuration value asks for: empty when the value is unset or blank (unsigned
     * versions accepted). A malformed value fails with a message that starts with {@code configKey}.
     */
    public static Optional<ManifestVerifier> fromConfig(String configKey, String value) {
        return ManifestKeys.fromConfig(configKey, value, ManifestVerifier::parse);
    }

    /** {@code hmac-sha256} or {@code ed25519}. */
    public String algorithm() {
        return algorithm;
    }

    /**
     * Checks the signature of a stored manifest, from its JSON bytes exactly as stored.
     *
     * @param where names the manifest in the error message (its object key, say)
     * @throws CheckpointIntegrityException unsigned, signed otherwise, or not matching
     */
    public void verify(byte[] manifestJson, String where) {
        byte[] canonical = CanonicalManifest.of(manifestJson);
        JsonNode field;
        try {
            field = JSON.readTree(manifestJson).path(CanonicalManifest.SIGNATURE_FIELD);
        } catch (IOException e) {
            throw new CheckpointIntegrityException(Reason.MANIFEST, where + " is not valid JSON", e);
        }
        if (field.isMissingNode() || field.isNull() || (field.isTextual() && field.asText().isBlank())) {
            throw new CheckpointIntegrityException(Reason.SIGNATURE, where + " is unsigned, and signatures are required"
                    + " (petal.checkpoint.verify-key is set)");
        }
        String text = field.isTextual() ? field.asText() : "";
        int colon = text.indexOf(':');
        String signedWith = colon < 0 ? "" : text.substring(0, colon);
        if (!signedWith.equals(algorithm)) {
            throw new CheckpointIntegrityException(Reason.SIGNATURE, where + " has a signature of "
                    + (signedWith.matches("[a-z0-9-]{1,20}") ? "algorithm '" + signedWith + "'" : "unknown form")
                    + ", the verify key is " + algorithm);
        }
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(text.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            throw new CheckpointIntegrityException(Reason.SIGNATURE, where + " has a signature that is not base64");
        }
        if (!Base64.getEncoder().encodeToString(signature).equals(text.substring(colon + 1))) {
            // Only the one encoding the signer writes: no second spelling of the same signature.
            throw new CheckpointIntegrityException(Reason.SIGNATURE, where + " has a signature in non-canonical base64");
        }
        if (!matches(canonical, signature)) {
            throw new CheckpointIntegrityException(Reason.SIGNATURE, where + ": its " + algorithm
                    + " signature does not match its content and the verify key");
        }
    }

    /** Checks a manifest held in memory, as it would be stored. */
    public void verify(CheckpointManifest manifest) {
        verify(CheckpointStore.toJson(manifest), "manifest of " + manifest.name() + "/" + manifest.version());
    }

    private boolean matches(byte[] data, byte[] signature) {
        try {
            if (hmacKey != null) {
                Mac mac = Mac.getInstance(ManifestKeys.HMAC_JCA);
                mac.init(hmacKey);
                return MessageDigest.isEqual(mac.doFinal(data), signature);
            }
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(publicKey);
            verifier.update(data);
            return verifier.verify(signature);
        } catch (java.security.SignatureException e) {
            return false; // a signature of the wrong length or form
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot verify with " + algorithm + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "ManifestVerifier[" + algorithm + "]";
    }
}
