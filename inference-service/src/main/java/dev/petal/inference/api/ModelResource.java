package dev.petal.inference.api;

import dev.petal.common.auth.Roles;
import dev.petal.inference.model.ModelHolder;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** {@code GET /model}: the version being served and its manifest; 503 before one is loaded. */
@RolesAllowed({Roles.SCORER, Roles.ADMIN})
@Path("/model")
public class ModelResource {
    private final ModelHolder holder;

    public ModelResource(ModelHolder holder) {
        this.holder = holder;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response model() {
        Optional<ModelHolder.Served> served = holder.served();
        if (served.isEmpty()) {
            return Response.status(503).entity(Map.of("errorClass", "no-model", "reason", "no model is loaded yet")).build();
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", served.get().id().name());
        body.put("version", served.get().id().version());
        body.put("sha256", served.get().id().sha256());
        body.put("manifest", served.get().manifest());
        return Response.ok(body).build();
    }
}
