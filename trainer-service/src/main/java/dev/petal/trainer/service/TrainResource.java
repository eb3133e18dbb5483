package dev.petal.trainer.service;

import dev.petal.common.auth.Roles;
import dev.petal.trainer.job.Recipe;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /train} starts one run in the background (JSON body: recipe fields to override the
 * service's base recipe, e.g. {"epochs": 3, "imageSize": 96}, as {@link TrainRequests} allows; 400 otherwise);
 * one run at a time (409 while one runs). {@code GET /train} reports it, with its progress (step, loss, learning
 * rate, the per-step curve, epochs, ETA: {@link RunProgress}); {@code GET /train/fields} says what a request may set.
 * The reads are open to {@code scorer} too, as the model lifecycle's reads are (the console's read-only role).
 */
@RolesAllowed({Roles.TRAINER, Roles.ADMIN})
@Path("/train")
@ApplicationScoped
public class TrainResource {
    private final TrainingRuns runs;
    private final TrainerConfig config;

    public TrainResource(TrainingRuns runs, TrainerConfig config) {
        this.runs = runs;
        this.config = config;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response start(String body) {
        Recipe recipe;
        try {
            recipe = TrainRequests.recipe(body, config);
        } catch (IllegalArgumentException e) {
            Map<String, Object> refusal = new LinkedHashMap<>();
            refusal.put("error", e.getMessage());
            refusal.put("status", 400);
            return Response.status(400).entity(refusal).build();
        }
        if (!runs.start(recipe, "request")) {
            return Response.status(409).entity(runs.state()).build();
        }
        return Response.accepted(runs.state()).build();
    }

    @GET
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> status() {
        return runs.stateWithProgress();
    }

    @GET
    @Path("/fields")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> fields() {
        Recipe base = config.baseRecipe(null);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("fields", RequestableFields.describe(base, TrainRequests.allowedModelNames(base, config.settings()),
                config.cacheBudget().maxMegabytes()));
        return body;
    }
}
