package dev.petal.localstack.auth;

import io.smallrye.jwt.build.Jwt;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Objects;

/**
 * Mints bearer tokens the services accept: RS256 JWTs with {@code iss}, {@code aud}, {@code sub}, {@code iat},
 * {@code exp} and the roles in {@code groups}, signed with {@code key}.
 *
 * @param key the private half of the key pair whose public half the services verify with
 * @param issuer the services' {@code mp.jwt.verify.issuer}
 * @param audience one of the services' {@code mp.jwt.verify.audiences}
 */
public record TokenIssuer(PrivateKey key, String issuer, String audience) {
    /** What the local stack's services expect ({@code petal-local}, {@code petal}), and the services' defaults. */
    public static final String LOCAL_ISSUER = "petal-local";
    public static final String LOCAL_AUDIENCE = "petal";

    public TokenIssuer {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(audience, "audience");
    }

    /** A token for {@code subject} with {@code roles}, valid from now for {@code ttl}. */
    public String mint(String subject, Collection<String> roles, Duration ttl) {
        Instant now = Instant.now();
        return mint(subject, roles, now, now.plus(ttl));
    }

    /** A token issued at {@code issuedAt} that expires at {@code expiresAt} (tests make expired ones). */
    public String mint(String subject, Collection<String> roles, Instant issuedAt, Instant expiresAt) {
        return Jwt.issuer(issuer)
                .audience(audience)
                .subject(subject)
                .groups(new LinkedHashSet<>(roles))
                .issuedAt(issuedAt)
                .expiresAt(expiresAt)
                .sign(key);
    }
}
