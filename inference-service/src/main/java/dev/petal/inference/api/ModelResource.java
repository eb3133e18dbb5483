package dev.petal.inference.api;

import dev.petal.common.auth.Roles;
import dev.petal.inference.model.ModelHolder;
import dev.petal.inference.model.ModelWatcher;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** {@code GET /model}: the version being served, its precision and runtime, the alias it serves, the canary's version, and its manifest; 503 before one is loaded. */
@RolesAllowed({Roles.SCORER, Roles.ADMIN})
@Path("/model")
public class ModelResource {
    private final ModelHolder holder;
    private final ModelWatcher watcher;

    public ModelResource(ModelHolder holder, ModelWatcher watcher) {
        this.holder = holder;
        this.watcher = watcher;
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
        body.put("precision", served.get().precision().id());
        body.put("runtime", served.get().runtime().id());
        body.put("alias", watcher.servedAlias());
        watcher.canaryHolder().version().ifPresent(v -> body.put("canary", v));
        body.put("warm", watcher.warmVersions());
        body.put("manifest", served.get().manifest());
        return Response.ok(body).build();
    }
}
