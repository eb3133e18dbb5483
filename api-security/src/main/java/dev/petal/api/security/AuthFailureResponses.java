package dev.petal.api.security;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.lang.reflect.Method;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The answers of a refused API request: 401 without a valid bearer token, 403 with a token whose roles
 * do not allow the endpoint, each a small JSON body {@code {"error": "...", "status": N}}. Neither says
 * why a token failed (expired, wrong issuer, audience or signature): that would help someone forging one;
 * the service's log at DEBUG does ({@code io.quarkus.smallrye.jwt}).
 *
 * <p>Needs {@code quarkus.http.auth.proactive=false} (every service sets it): with proactive
 * authentication a bad token is refused before Quarkus REST runs, and these mappers never see it.
 */
public class AuthFailureResponses {
    static final String MISSING = "authentication required: send a bearer token (Authorization: Bearer <JWT>)";
    static final String INVALID = "the bearer token is not valid: malformed, expired, or of another issuer, audience or key";

    @ServerExceptionMapper
    public Response noToken(UnauthorizedException e) {
        return answer(401, MISSING).header("WWW-Authenticate", "Bearer").build();
    }

    @ServerExceptionMapper
    public Response badToken(AuthenticationFailedException e) {
        return answer(401, INVALID).header("WWW-Authenticate", "Bearer error=\"invalid_token\"").build();
    }

    @ServerExceptionMapper
    public Response wrongRole(ForbiddenException e, ContainerRequestContext request, ResourceInfo resource) {
        return answer(403, request.getMethod() + " " + path(resource) + " needs a token with one of the roles "
                + allowedRoles(resource)).build();
    }

    /** The endpoint's path as declared (not as requested, which the caller chose). */
    static String path(ResourceInfo resource) {
        Path path = resource == null || resource.getResourceClass() == null ? null : resource.getResourceClass().getAnnotation(Path.class);
        return path == null ? "this endpoint" : path.value();
    }

    /** The roles the matched endpoint allows, from its {@code @RolesAllowed} (method first, then class). */
    static String allowedRoles(ResourceInfo resource) {
        Method method = resource == null ? null : resource.getResourceMethod();
        RolesAllowed allowed = method == null ? null : method.getAnnotation(RolesAllowed.class);
        if (allowed == null && resource != null && resource.getResourceClass() != null) {
            allowed = resource.getResourceClass().getAnnotation(RolesAllowed.class);
        }
        return allowed == null ? "(none)" : String.join(", ", allowed.value());
    }

    private static Response.ResponseBuilder answer(int status, String error) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error);
        body.put("status", status);
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body);
    }
}
