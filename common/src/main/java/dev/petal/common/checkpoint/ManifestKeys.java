package dev.petal.common.checkpoint;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import javax.crypto.spec.SecretKeySpec;

/**
 * Parses the key strings of {@code petal.checkpoint.signing-key} and {@code petal.checkpoint.verify-key}:
 * {@code hmac-sha256:<base64 secret>} (both sides), {@code ed25519:<base64 DER PKCS#8 private key>}
 * (signing) and {@code ed25519:<base64 DER X.509 public key>} (verifying), the encodings
 * {@code openssl pkey -outform DER} and {@code openssl pkey -pubout -outform DER} write. Messages
 * never repeat key material.
 */
final class ManifestKeys {
    static final String HMAC = "hmac-sha256";
    static final String ED25519 = "ed25519";
    static final String HMAC_JCA = "HmacSHA256";
    static final int MIN_HMAC_BYTES = 16;
    static final String SIGNING_FORMS = "'hmac-sha256:<base64 secret>' or 'ed25519:<base64 DER PKCS#8 private key>'";
    static final String VERIFY_FORMS = "'hmac-sha256:<base64 secret>' or 'ed25519:<base64 DER X.509 public key>'";
    private static final String MAKE_PRIVATE = "openssl genpkey -algorithm ed25519 -out signing.pem;"
            + " openssl pkey -in signing.pem -outform DER | base64 -w0";
    private static final String MAKE_PUBLIC = "openssl pkey -in signing.pem -pubout -outform DER | base64 -w0";

    /** A key string split into its algorithm and decoded bytes. */
    record Split(String algorithm, byte[] bytes) {}

    private ManifestKeys() {}

    static Split split(String key, String forms) {
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("the key is empty; expected " + forms);
        }
        String text = key.strip();
        int colon = text.indexOf(':');
        String algorithm = colon < 0 ? "" : text.substring(0, colon).toLowerCase(Locale.ROOT);
        if (!algorithm.equals(HMAC) && !algorithm.equals(ED25519)) {
            String named = algorithm.matches("[a-z0-9-]{1,20}") ? "; '" + algorithm + "' is not one of them"
                    : " (no algorithm prefix before a ':')";
            throw new IllegalArgumentException("the key must be " + forms + named);
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(text.substring(colon + 1).replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the text after '" + algorithm + ":' is not base64 (" + e.getMessage() + ")");
        }
        if (bytes.length == 0) {
            throw new IllegalArgumentException("the key is empty after '" + algorithm + ":'; expected " + forms);
        }
        return new Split(algorithm, bytes);
    }

    static SecretKeySpec hmacKey(byte[] secret) {
        if (secret.length < MIN_HMAC_BYTES) {
            throw new IllegalArgumentException("the hmac-sha256 secret is " + secret.length + " bytes; use at least "
                    + MIN_HMAC_BYTES + " (32 random bytes: openssl rand -base64 32)");
        }
        return new SecretKeySpec(secret, HMAC_JCA);
    }

    static PrivateKey ed25519Private(byte[] der) {
        try {
            return KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException | RuntimeException e) {
            if (isPublic(der)) {
                throw new IllegalArgumentException("the ed25519 signing key is a public key; signing needs the private key"
                        + " (" + MAKE_PRIVATE + ")");
            }
            throw new IllegalArgumentException("the ed25519 signing key is not a base64 DER PKCS#8 Ed25519 private key"
                    + " (make one: " + MAKE_PRIVATE + ")");
        }
    }

    static PublicKey ed25519Public(byte[] der) {
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException | RuntimeException e) {
            if (isPrivate(der)) {
                throw new IllegalArgumentException("the ed25519 verify key is a private key; give inference the public key"
                        + " only (" + MAKE_PUBLIC + ")");
            }
            throw new IllegalArgumentException("the ed25519 verify key is not a base64 DER X.509 Ed25519 public key"
                    + " (from the signing key: " + MAKE_PUBLIC + ")");
        }
    }

    private static boolean isPublic(byte[] der) {
        try {
            KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static boolean isPrivate(byte[] der) {
        try {
            KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** Empty when {@code value} is unset or blank; else the parsed key, or an error that starts with {@code configKey}. */
    static <T> Optional<T> fromConfig(String configKey, String value, Function<String, T> parse) {
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(parse.apply(value));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configKey + ": " + e.getMessage());
        }
    }
}
