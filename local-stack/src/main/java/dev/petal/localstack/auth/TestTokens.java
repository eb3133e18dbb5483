package dev.petal.localstack.auth;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Tokens for tests, signed with a key pair made in this JVM on first use ({@link JwtTestResource} points the
 * service under test at its public half). Nothing of it is committed; it is deleted when the JVM exits.
 */
public final class TestTokens {
    private static final String SUBJECT = "test-user";

    private TestTokens() {}

    /** {@code Authorization} header value: a valid token with {@code roles}, for an hour. */
    public static String bearer(String... roles) {
        return "Bearer " + token(roles);
    }

    /** A valid token with {@code roles}, for an hour. */
    public static String token(String... roles) {
        return issuer().mint(SUBJECT, List.of(roles), Duration.ofHours(1));
    }

    /** A token with {@code roles} that expired ten minutes ago (beyond the verifier's 60 s of grace). */
    public static String expired(String... roles) {
        Instant now = Instant.now();
        return issuer().mint(SUBJECT, List.of(roles), now.minus(Duration.ofHours(1)), now.minus(Duration.ofMinutes(10)));
    }

    /** A token signed with the right key but from another issuer. */
    public static String otherIssuer(String... roles) {
        TokenIssuer right = issuer();
        return new TokenIssuer(right.key(), "someone-else", right.audience()).mint(SUBJECT, List.of(roles), Duration.ofHours(1));
    }

    /** A token signed with the right key but for another audience. */
    public static String otherAudience(String... roles) {
        TokenIssuer right = issuer();
        return new TokenIssuer(right.key(), right.issuer(), "another-api").mint(SUBJECT, List.of(roles), Duration.ofHours(1));
    }

    /** A token with the right claims signed by a key the service does not trust. */
    public static String otherKey(String... roles) {
        return new TokenIssuer(PemKeys.newRsaKeyPair().getPrivate(), TokenIssuer.LOCAL_ISSUER, TokenIssuer.LOCAL_AUDIENCE)
                .mint(SUBJECT, List.of(roles), Duration.ofHours(1));
    }

    /** The public key of this JVM's test pair, as a PEM file. */
    public static Path publicKeyFile() {
        return pair().publicKeyFile();
    }

    static TokenIssuer issuer() {
        return pair().issuer();
    }

    /**
     * This JVM's pair, in a temporary folder named after the process: Quarkus loads test classes in more than
     * one class loader and resets system properties around a test, but the files stay the same for the JVM.
     */
    private static LocalKeyPair pair() {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "petal-test-tokens-" + ProcessHandle.current().pid());
        synchronized (System.class) {
            boolean made = LocalKeyPair.find(dir).isEmpty();
            LocalKeyPair pair = LocalKeyPair.ensure(dir);
            if (made) {
                // Deleted in the reverse order of these calls: the files, then their folder.
                dir.toFile().deleteOnExit();
                pair.publicKeyFile().toFile().deleteOnExit();
                pair.privateKeyFile().toFile().deleteOnExit();
            }
            return pair;
        }
    }
}
