package dev.petal.console;

import dev.petal.common.auth.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
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

    /**
     * Each page action ({@link PageAction}) and the roles its endpoint's {@code @RolesAllowed} allows, read once from
     * {@link ConsoleResource}: the pages offer an action exactly where the endpoint would accept it.
     */
    static final Map<String, List<String>> ACTIONS = actions();

    /** What the pages may offer this caller: {@code read} and each page action, true or false. */
    static Map<String, Object> abilities(SecurityIdentity identity) {
        Map<String, Object> can = new LinkedHashMap<>();
        can.put("read", Arrays.stream(READ).anyMatch(identity::hasRole));
        ACTIONS.forEach((action, roles) -> can.put(action, roles.stream().anyMatch(identity::hasRole)));
        return can;
    }

    private static Map<String, List<String>> actions() {
        Map<String, List<String>> actions = new TreeMap<>();
        for (Method m : ConsoleResource.class.getDeclaredMethods()) {
            PageAction action = m.getAnnotation(PageAction.class);
            if (action != null) {
                RolesAllowed roles = m.getAnnotation(RolesAllowed.class);
                if (roles == null) {
                    throw new IllegalStateException(m + " is a page action without @RolesAllowed");
                }
                actions.put(action.value(), List.of(roles.value()));
            }
        }
        return java.util.Collections.unmodifiableMap(actions);
    }
}
