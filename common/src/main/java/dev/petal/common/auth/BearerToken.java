package dev.petal.common.auth;

import java.util.Optional;
import java.util.function.Function;

/**
 * The token a command sends to Petal's services ({@code ./petal trainer retrain}, ...): {@value #KEY}, environment
 * {@code PETAL_AUTH_TOKEN}. The launcher sets it from the local stack's key pair when it is unset; with an OIDC
 * provider, set it to an access token from that provider.
 */
public final class BearerToken {
    public static final String KEY = "petal.auth.token";

    private BearerToken() {}

    /** The {@code Authorization} header's value, when a token is configured. */
    public static Optional<String> header(Function<String, String> lookup) {
        String token = lookup.apply(KEY);
        return token == null || token.isBlank() ? Optional.empty() : Optional.of("Bearer " + token.trim());
    }
}
