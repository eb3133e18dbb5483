package dev.petal.console;

import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.quarkus.smallrye.jwt.runtime.auth.JWTAuthMechanism;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Inject;
import java.util.Set;

/**
 * Who is calling: the session of the {@value ConsoleSessions#COOKIE} cookie, else a bearer token as on every Petal API
 * (smallrye-jwt's mechanism, to which this one hands over). A request that changes something (not GET or HEAD) is
 * taken on a cookie only with the header {@value #CSRF_HEADER}, which the console's script sends and which another
 * site's form or script cannot (a custom header needs CORS, which the console does not allow); with SameSite=Strict
 * on the cookie, that keeps other sites from acting in a signed-in user's name.
 */
@Alternative
@Priority(1)
@ApplicationScoped
public class SessionAuthMechanism implements HttpAuthenticationMechanism {
    public static final String CSRF_HEADER = "X-Petal-Console";
    /** The routing context's key for the session a request came with. */
    public static final String SESSION_ATTRIBUTE = "petal.console.session";

    @Inject
    JWTAuthMechanism bearer;

    @Inject
    ConsoleSessions sessions;

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identityProviderManager) {
        if (context.request().getHeader("Authorization") == null) {
            Cookie cookie = context.request().getCookie(ConsoleSessions.COOKIE);
            if (cookie != null) {
                boolean safe = context.request().method() == HttpMethod.GET || context.request().method() == HttpMethod.HEAD;
                if (safe || "1".equals(context.request().getHeader(CSRF_HEADER))) {
                    var session = sessions.find(cookie.getValue());
                    if (session.isPresent()) {
                        context.put(SESSION_ATTRIBUTE, session.get());
                        return Uni.createFrom().item(QuarkusSecurityIdentity.builder()
                                .setPrincipal(new QuarkusPrincipal(session.get().subject()))
                                .addRoles(session.get().roles())
                                .addAttribute(SESSION_ATTRIBUTE, session.get())
                                .build());
                    }
                }
            }
        }
        return bearer.authenticate(context, identityProviderManager);
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        return bearer.getChallenge(context);
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return bearer.getCredentialTypes();
    }
}
