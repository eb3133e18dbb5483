package dev.petal.console;

import dev.petal.common.auth.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.PermitAll;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * Signing in and out of the console ({@link ConsoleSessions}).
 *
 * <ul>
 *   <li>{@code POST /api/session/login-codes} with a bearer token (any role that may read): a one-time code for that
 *       token, which {@code ./petal console} puts in the link it prints, after {@code #}.</li>
 *   <li>{@code POST /api/session} {@code {"code": "..."}}: the page trades the code for the session cookie.</li>
 *   <li>{@code POST /api/session/token} with a bearer token: the sign-in form's way, for a token from elsewhere (an
 *       OIDC provider); the token travels once, in a header, and only its session cookie comes back.</li>
 *   <li>{@code GET /api/session/state}: whether anyone is signed in (200 either way);
 *       {@code GET /api/session}: who is signed in, what they may do ({@code can}) and which roles each action
 *       needs ({@code needs}); {@code DELETE /api/session}: sign out.</li>
 * </ul>
 */
@Path("/api/session")
public class SessionResource {
    @Inject
    ConsoleSessions sessions;

    @Inject
    ConsoleSettings settings;

    @Inject
    SecurityIdentity identity;

    @POST
    @Path("/login-codes")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    @Produces(MediaType.APPLICATION_JSON)
    public Response loginCode() {
        if (!(identity.getPrincipal() instanceof JsonWebToken jwt) || Callers.session(identity).isPresent()) {
            return error(403, "a login code needs a bearer token (Authorization: Bearer <JWT>), not a console session");
        }
        String code = sessions.issueCode(jwt.getName(), identity.getRoles(), jwt.getRawToken(), Instant.ofEpochSecond(jwt.getExpirationTime()));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("code", code);
        body.put("path", "/#login=" + code);
        body.put("expiresInSeconds", settings.loginCodeTtl().toSeconds());
        return Response.ok(body).build();
    }

    @POST
    @PermitAll
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response redeem(Map<String, Object> body) {
        Object code = body == null ? null : body.get("code");
        return sessions.redeem(code instanceof String s ? s : null)
                .map(this::signedIn)
                .orElseGet(() -> error(401, "this login link is not valid: it was used already or is older than "
                        + settings.loginCodeTtl().toSeconds() + " s; run ./petal console again"));
    }

    @POST
    @Path("/token")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    @Produces(MediaType.APPLICATION_JSON)
    public Response withToken() {
        if (!(identity.getPrincipal() instanceof JsonWebToken jwt) || Callers.session(identity).isPresent()) {
            return error(400, "send the token as Authorization: Bearer <JWT>");
        }
        return signedIn(sessions.open(jwt.getName(), identity.getRoles(), jwt.getRawToken(), Instant.ofEpochSecond(jwt.getExpirationTime())));
    }

    @GET
    @RolesAllowed({Roles.SCORER, Roles.INGESTER, Roles.TRAINER, Roles.ADMIN})
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> me() {
        Map<String, Object> me = new LinkedHashMap<>();
        me.put("subject", identity.getPrincipal().getName());
        me.put("roles", identity.getRoles());
        Callers.session(identity).ifPresent(s -> me.put("expiresAt", s.expiresAt().toString()));
        me.put("can", Callers.abilities(identity));
        me.put("needs", Callers.ACTIONS);
        return me;
    }

    /** Whether the caller is signed in, and if so as {@link #me()} says; 200 either way (the page's first question). */
    @GET
    @Path("/state")
    @PermitAll
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> state() {
        if (identity.isAnonymous()) {
            return Map.of("signedIn", false);
        }
        Map<String, Object> me = new LinkedHashMap<>();
        me.put("signedIn", true);
        me.putAll(me());
        return me;
    }

    @DELETE
    @PermitAll
    public Response signOut() {
        Callers.session(identity).ifPresent(s -> sessions.close(s.id()));
        return Response.noContent().header("Set-Cookie", cookie("", 0)).build();
    }

    private Response signedIn(ConsoleSessions.Session session) {
        long seconds = Math.max(1, Duration.between(Instant.now(), session.expiresAt()).toSeconds());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("subject", session.subject());
        body.put("roles", session.roles());
        body.put("expiresAt", session.expiresAt().toString());
        return Response.ok(body).header("Set-Cookie", cookie(session.id(), seconds)).build();
    }

    private String cookie(String value, long maxAgeSeconds) {
        return ConsoleSessions.COOKIE + "=" + value + "; Path=/; Max-Age=" + maxAgeSeconds + "; HttpOnly; SameSite=Strict"
                + (settings.secureCookie() ? "; Secure" : "");
    }

    static Response error(int status, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", message);
        body.put("status", status);
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body).build();
    }

    static Set<String> readRoles() {
        return Set.of(Callers.READ);
    }
}
