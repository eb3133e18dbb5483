package dev.petal.trainer.service;

import dev.petal.common.auth.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;

/**
 * {@code POST /train} starts one run in the background (JSON body: recipe fields to override the
 * service's base recipe, e.g. {"epochs": 3, "imageSize": 96}); one run at a time. {@code GET /train} reports it.
 */
@RolesAllowed({Roles.TRAINER, Roles.ADMIN})
@Path("/train")
@ApplicationScoped
public class TrainResource {
    private final TrainingRuns runs;

    public TrainResource(TrainingRuns runs) {
        this.runs = runs;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response start(String body) {
        if (runs.isRunning()) {
            return Response.status(409).entity(runs.state()).build();
        }
        try {
            if (!runs.start(TrainerConfig.baseRecipe(body), "request")) {
                return Response.status(409).entity(runs.state()).build();
            }
        } catch (IllegalArgumentException e) {
            return Response.status(400).entity(Map.of("error", String.valueOf(e.getMessage()))).build();
        }
        return Response.accepted(runs.state()).build();
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> status() {
        return runs.state();
    }
}
