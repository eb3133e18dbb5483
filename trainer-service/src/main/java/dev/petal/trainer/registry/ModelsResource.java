package dev.petal.trainer.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.auth.Roles;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.registry.RegistryException;
import dev.petal.common.storage.ObjectStoreException;
import dev.petal.trainer.service.TrainerConfig;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The model lifecycle over HTTP (docs/model-lifecycle.md, the console's contract): read the models, their versions, gate
 * decisions and alias history (roles scorer, trainer or admin); move an alias or roll one back (admin). Errors are
 * {@code {"error": "...", "status": N}}: 404 an unknown model or version, 409 a lost concurrent move or labels that
 * differ without {@code "force": true}, 400 a bad body or name, 503 object storage unreachable.
 */
@Path("/models")
@ApplicationScoped
@Produces(MediaType.APPLICATION_JSON)
public class ModelsResource {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final TrainerConfig config;

    public ModelsResource(TrainerConfig config) {
        this.config = config;
    }

    interface Call {
        Object run(Lifecycle lifecycle) throws IOException;
    }

    Response answer(Call call) {
        try (Lifecycle lifecycle = new Lifecycle(config.s3(), config.kafka())) {
            return Response.ok(call.run(lifecycle)).build();
        } catch (RegistryException e) {
            return error(e.status(), e.getMessage());
        } catch (ObjectStoreException e) {
            return error(503, "object storage is unreachable: " + e.getMessage());
        } catch (IOException | IllegalArgumentException e) {
            return error(400, e.getMessage());
        }
    }

    static Response error(int status, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", message);
        body.put("status", status);
        return Response.status(status).entity(body).type(MediaType.APPLICATION_JSON).build();
    }

    @GET
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    public Response models() {
        return answer(l -> ModelViews.models(l.registry()));
    }

    @GET
    @Path("/{name}")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    public Response model(@PathParam("name") String name) {
        return answer(l -> ModelViews.model(l.registry(), name));
    }

    @GET
    @Path("/{name}/history")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    public Response history(@PathParam("name") String name) {
        return answer(l -> ModelViews.history(l.registry(), name));
    }

    /** Body {@code {"version": "v4", "force": false, "reason": "..."}}. */
    @POST
    @Path("/{name}/aliases/{alias}")
    @Consumes(MediaType.WILDCARD)
    @RolesAllowed(Roles.ADMIN)
    public Response move(@PathParam("name") String name, @PathParam("alias") String alias, String body, @Context SecurityContext who) {
        return answer(l -> {
            JsonNode json = body(body);
            String version = json.path("version").asText("");
            if (version.isEmpty()) {
                throw RegistryException.badRequest("the body names no \"version\"");
            }
            AliasMove move = l.registry().move(name, alias, version, AliasMove.PROMOTE, json.path("reason").asText(""), actor(who),
                    json.path("force").asBoolean(false), null);
            return ModelViews.move(move);
        });
    }

    /** Body {@code {"alias": "champion"}} (optional). */
    @POST
    @Path("/{name}/rollback")
    @Consumes(MediaType.WILDCARD)
    @RolesAllowed(Roles.ADMIN)
    public Response rollback(@PathParam("name") String name, String body, @Context SecurityContext who) {
        return answer(l -> {
            JsonNode json = body(body);
            String alias = json.path("alias").asText(ModelRegistry.CHAMPION);
            return ModelViews.move(l.registry().rollback(name, alias, json.path("reason").asText(""), actor(who)));
        });
    }

    static JsonNode body(String body) throws IOException {
        if (body == null || body.isBlank()) {
            return JSON.createObjectNode();
        }
        JsonNode json = JSON.readTree(body);
        if (json == null || !json.isObject()) {
            throw RegistryException.badRequest("the body is not a JSON object");
        }
        return json;
    }

    static String actor(SecurityContext who) {
        return who == null || who.getUserPrincipal() == null ? "api" : "api:" + who.getUserPrincipal().getName();
    }
}
