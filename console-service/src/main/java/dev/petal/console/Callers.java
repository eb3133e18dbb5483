package dev.petal.console;

import dev.petal.common.auth.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.jwt.JsonWebToken;

/** Who is calling and with which token: a console session's, or the bearer token the request carried. */
final class Callers {
    /** Roles that may read every page. */
    static final String[] READ = {Roles.SCORER, Roles.TRAINER, Roles.ADMIN};

    private Callers() {}

    static Optional<ConsoleSessions.Session> session(SecurityIdentity identity) {
        Object session = identity.getAttribute(SessionAuthMechanism.SESSION_ATTRIBUTE);
        return session instanceof ConsoleSessions.Session s ? Optional.of(s) : Optional.empty();
    }

    /** The bearer token to call the trainer with on the caller's behalf. */
    static String token(SecurityIdentity identity) {
        Optional<ConsoleSessions.Session> session = session(identity);
        if (session.isPresent()) {
            return session.get().token();
        }
        return identity.getPrincipal() instanceof JsonWebToken jwt ? jwt.getRawToken() : null;
    }

    /** What the pages may offer this caller. */
    static Map<String, Object> abilities(SecurityIdentity identity) {
        Map<String, Object> can = new LinkedHashMap<>();
        can.put("read", identity.hasRole(Roles.SCORER) || identity.hasRole(Roles.TRAINER) || identity.hasRole(Roles.ADMIN));
        can.put("train", identity.hasRole(Roles.TRAINER) || identity.hasRole(Roles.ADMIN));
        can.put("promote", identity.hasRole(Roles.ADMIN));
        can.put("replay", identity.hasRole(Roles.ADMIN));
        return can;
    }
}
