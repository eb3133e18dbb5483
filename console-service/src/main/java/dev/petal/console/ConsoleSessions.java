package dev.petal.console;

import jakarta.enterprise.context.ApplicationScoped;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The console's sign-ins, in this process's memory only. A browser never holds a bearer token: it holds an opaque,
 * random session id in an HttpOnly cookie, and the session here holds the token, its subject and roles, used to
 * call the trainer's API on the user's behalf (so that the API enforces the same roles).
 *
 * <p>Two ways in: a one-time login code, which {@code ./petal console} gets by presenting a token minted from the local
 * key pair ({@code POST /api/session/login-codes}), and which the page trades for the cookie once (the code travels in
 * the URL's fragment, which browsers never send to a server); or a token pasted into the sign-in form. A code works
 * once and for {@code petal.console.login-code-ttl} (60 s); a session ends at the token's expiry or after
 * {@code petal.console.session-max}, whichever is first, or when the user signs out. A restart ends every session.
 */
@ApplicationScoped
public class ConsoleSessions {
    public static final String COOKIE = "petal_console";

    /** A signed-in user: the raw bearer token stays here, never in the browser. */
    public record Session(String id, String subject, Set<String> roles, String token, Instant expiresAt) {
        public boolean expired(Instant now) {
            return !now.isBefore(expiresAt);
        }
    }

    private record Pending(String subject, Set<String> roles, String token, Instant tokenExpiry, Instant codeExpiry) {}

    private static final SecureRandom RANDOM = new SecureRandom();
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final Map<String, Pending> codes = new ConcurrentHashMap<>();
    private final ConsoleSettings settings;
    private final Clock clock;

    @jakarta.inject.Inject
    public ConsoleSessions(ConsoleSettings settings) {
        this(settings, Clock.systemUTC());
    }

    ConsoleSessions(ConsoleSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
    }

    /** A code that signs in as the token's holder, once, within the code's lifetime. */
    public String issueCode(String subject, Set<String> roles, String token, Instant tokenExpiry) {
        sweep();
        String code = random();
        codes.put(code, new Pending(subject, Set.copyOf(roles), token, tokenExpiry, clock.instant().plus(settings.loginCodeTtl())));
        return code;
    }

    /** The session a code opens; empty when the code is unknown, used or too old. */
    public Optional<Session> redeem(String code) {
        if (code == null) {
            return Optional.empty();
        }
        Pending pending = codes.remove(code);
        Instant now = clock.instant();
        if (pending == null || !now.isBefore(pending.codeExpiry()) || !now.isBefore(pending.tokenExpiry())) {
            return Optional.empty();
        }
        return Optional.of(open(pending.subject(), pending.roles(), pending.token(), pending.tokenExpiry()));
    }

    /** A session for a token the caller presented and Quarkus verified. */
    public Session open(String subject, Set<String> roles, String token, Instant tokenExpiry) {
        sweep();
        Instant cap = clock.instant().plus(settings.sessionMax());
        Session session = new Session(random(), subject, Set.copyOf(roles), token, tokenExpiry.isBefore(cap) ? tokenExpiry : cap);
        sessions.put(session.id(), session);
        return session;
    }

    public Optional<Session> find(String id) {
        if (id == null) {
            return Optional.empty();
        }
        Session session = sessions.get(id);
        if (session == null) {
            return Optional.empty();
        }
        if (session.expired(clock.instant())) {
            sessions.remove(id);
            return Optional.empty();
        }
        return Optional.of(session);
    }

    public void close(String id) {
        if (id != null) {
            sessions.remove(id);
        }
    }

    private void sweep() {
        Instant now = clock.instant();
        sessions.values().removeIf(s -> s.expired(now));
        codes.values().removeIf(p -> !now.isBefore(p.codeExpiry()));
    }

    private static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
