package dev.petal.console;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.auth.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.resteasy.reactive.RestStreamElementType;

/**
 * The console's API, under {@code /api} on the application port, for its pages. Each endpoint's {@code @RolesAllowed}
 * says who may call it; those marked {@link PageAction} are the actions the pages offer, to exactly those roles
 * ({@link Callers#abilities}). Every action goes to the trainer's own endpoint with the caller's token, so the trainer
 * checks the roles again and records the same actor as for the CLI.
 */
@Path("/api")
@Blocking
public class ConsoleResource {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What a page shows for an image that is gone or cannot be decoded (an answer, not an error, in the browser's console). */
    private static final String MISSING_IMAGE = "<svg xmlns='http://www.w3.org/2000/svg' width='96' height='96'><rect width='96' height='96'"
            + " fill='#e9ecf0'/><text x='48' y='52' font-size='11' text-anchor='middle' fill='#5a6472'>no image</text></svg>";

    @Inject
    SecurityIdentity identity;

    @Inject
    ConsoleSettings settings;

    @Inject
    ModelCatalog catalog;

    @Inject
    ScoringMonitor scoring;

    @Inject
    DeadLetterMonitor deadLetters;

    @Inject
    TrainerApi trainer;

    @Inject
    Thumbnails thumbnails;

    @Inject
    ConsoleSessions sessions;

    // ---- models

    @GET
    @Path("/models")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> models(@QueryParam("name") String asked) {
        Map<String, List<Map<String, Object>>> all = catalog.models();
        String name = asked != null && all.containsKey(asked) ? asked
                : all.containsKey(settings.modelName()) || all.isEmpty() ? settings.modelName() : all.keySet().iterator().next();
        List<Map<String, Object>> versions = new ArrayList<>();
        for (Map<String, Object> v : all.getOrDefault(name, List.of())) {
            versions.add(new LinkedHashMap<>(v));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("names", new ArrayList<>(all.keySet()));
        body.put("latest", catalog.latest(name));
        body.put("champion", catalog.champion(name));
        body.put("serving", serving());
        body.put("lifecycle", lifecycle(name, versions));
        body.put("versions", versions);
        body.put("problem", catalog.problem());
        return body;
    }

    /** The versions the inference replicas report serving (petal_inference_model_loaded): what inference serves now. */
    private List<Object> serving() {
        List<Object> serving = new ArrayList<>();
        for (Map<String, Object> replica : scoring.replicas()) {
            if (replica.get("version") != null) {
                serving.add(replica.get("version"));
            }
        }
        return serving.stream().distinct().toList();
    }

    /** Aliases, gate decisions and the alias history from the trainer's lifecycle API, merged into {@code versions}. */
    private Map<String, Object> lifecycle(String name, List<Map<String, Object>> versions) {
        Map<String, Object> lifecycle = new LinkedHashMap<>();
        TrainerApi.Answer model = trainer.get("/models/" + TrainerApi.segment(name), Callers.token(identity));
        if (model.unavailable()) {
            lifecycle.put("available", false);
            lifecycle.put("reason", "not available on this trainer: it has no model lifecycle API (GET /models/{name})");
            return lifecycle;
        }
        if (!model.ok()) {
            lifecycle.put("available", true);
            lifecycle.put("problem", errorOf(model));
            lifecycle.put("aliases", Map.of());
            return lifecycle;
        }
        lifecycle.put("available", true);
        try {
            JsonNode node = JSON.readTree(model.body());
            Map<String, Object> aliases = JSON.convertValue(node.path("aliases"), new TypeReference<Map<String, Object>>() {});
            lifecycle.put("aliases", aliases == null ? Map.of() : aliases);
            Map<String, JsonNode> byVersion = new LinkedHashMap<>();
            node.path("versions").forEach(v -> byVersion.put(v.path("version").asText(), v));
            for (Map<String, Object> v : versions) {
                JsonNode fromTrainer = byVersion.get((String) v.get("version"));
                if (fromTrainer != null) {
                    v.put("aliases", JSON.convertValue(fromTrainer.path("aliases"), List.class));
                    if (fromTrainer.has("gate")) {
                        v.put("gate", JSON.convertValue(fromTrainer.path("gate"), Map.class));
                    }
                }
            }
        } catch (Exception e) {
            lifecycle.put("problem", "the trainer's GET /models answer is not the contract's JSON");
        }
        TrainerApi.Answer history = trainer.get("/models/" + TrainerApi.segment(name) + "/history", Callers.token(identity));
        if (history.ok()) {
            try {
                lifecycle.put("history", JSON.readValue(history.body(), List.class));
            } catch (Exception e) {
                lifecycle.put("history", List.of());
            }
        }
        return lifecycle;
    }

    @POST
    @Path("/models/{name}/aliases/{alias}")
    @RolesAllowed(Roles.ADMIN)
    @PageAction("promote")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response moveAlias(@PathParam("name") String name, @PathParam("alias") String alias, String body) {
        return forward("POST /models/{name}/aliases/{alias}", trainer.post("/models/" + TrainerApi.segment(name) + "/aliases/"
                + TrainerApi.segment(alias), body, Callers.token(identity)));
    }

    @POST
    @Path("/models/{name}/rollback")
    @RolesAllowed(Roles.ADMIN)
    @PageAction("rollback")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response rollback(@PathParam("name") String name, String body) {
        return forward("POST /models/{name}/rollback", trainer.post("/models/" + TrainerApi.segment(name) + "/rollback", body,
                Callers.token(identity)));
    }

    // ---- scoring, dead letters

    @GET
    @Path("/scoring")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> scoring() {
        return scoring.snapshot();
    }

    @GET
    @Path("/dlq")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> deadLetters() {
        Map<String, Object> body = new LinkedHashMap<>(deadLetters.snapshot());
        TrainerApi.Answer probe = trainer.get("/dlq?limit=1", Callers.token(identity));
        Map<String, Object> replay = new LinkedHashMap<>();
        replay.put("available", !probe.unavailable() && probe.status() != 0);
        if (probe.unavailable()) {
            replay.put("reason", "not available on this trainer: it has no dead-letter replay (POST /dlq/replay)");
        }
        body.put("replay", replay);
        return body;
    }

    @POST
    @Path("/dlq/replay")
    @RolesAllowed(Roles.ADMIN)
    @PageAction("replay")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response replay(String body) {
        return forward("POST /dlq/replay", trainer.post("/dlq/replay", body, Callers.token(identity)));
    }

    @GET
    @Path("/images/{partition}/{offset}")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    @Produces({"image/jpeg", "image/svg+xml"})
    public Response image(@PathParam("partition") int partition, @PathParam("offset") long offset) {
        if (partition < 0 || offset < 0) {
            return Response.ok(MISSING_IMAGE, "image/svg+xml").header("X-Petal-Thumbnail", "missing").build();
        }
        return thumbnails.of(partition, offset)
                .map(bytes -> Response.ok(bytes, "image/jpeg").header("Cache-Control", "private, max-age=3600").build())
                .orElseGet(() -> Response.ok(MISSING_IMAGE, "image/svg+xml").header("X-Petal-Thumbnail", "missing").build());
    }

    // ---- training

    @GET
    @Path("/train")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    @Produces(MediaType.APPLICATION_JSON)
    public Response training() {
        return forward("GET /train", trainer.get("/train", Callers.token(identity)));
    }

    @GET
    @Path("/train/fields")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    @Produces(MediaType.APPLICATION_JSON)
    public Response trainingFields() {
        return forward("GET /train/fields", trainer.get("/train/fields", Callers.token(identity)));
    }

    @POST
    @Path("/train")
    @RolesAllowed({Roles.TRAINER, Roles.ADMIN})
    @PageAction("train")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response startTraining(String body) {
        return forward("POST /train", trainer.post("/train", body, Callers.token(identity)));
    }

    // ---- live updates

    /**
     * Server-Sent Events: every {@code petal.console.refresh} (1 s) an update with the scoring view, the dead-letter
     * counts and the training run; a stamp of the models, so a page reloads them when a version is published, the
     * champion moves or what serves changes. Ends when the session does, with a last event that says so.
     */
    @GET
    @Path("/events")
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    public Multi<Map<String, Object>> events() {
        String token = Callers.token(identity);
        var session = Callers.session(identity);
        AtomicBoolean ended = new AtomicBoolean();
        return Multi.createFrom().ticks().every(settings.refresh()).onOverflow().drop()
                .select().first(tick -> !ended.get())
                .map(tick -> {
                    Map<String, Object> update = new LinkedHashMap<>();
                    if (session.isPresent() && (session.get().expired(Instant.now()) || sessions.find(session.get().id()).isEmpty())) {
                        ended.set(true);
                        update.put("signedOut", true);
                        return update;
                    }
                    update.put("at", Instant.now().toString());
                    update.put("scoring", scoring.snapshot());
                    Map<String, Object> dlq = deadLetters.snapshot();
                    dlq.remove("samples");
                    update.put("dlq", dlq);
                    TrainerApi.Answer run = trainer.get("/train", token);
                    update.put("training", run.ok() ? parse(run.body()) : Map.of("error", errorOf(run)));
                    update.put("modelsStamp", modelsStamp());
                    return update;
                });
    }

    /** Changes when a version is published, the champion alias moves or a replica swaps models: the page reloads its models then. */
    private String modelsStamp() {
        StringBuilder stamp = new StringBuilder();
        catalog.models().forEach((name, versions) -> stamp.append(name).append(':').append(versions.size())
                .append(':').append(catalog.champion(name)).append(';'));
        return stamp.append("serving:").append(serving()).toString();
    }

    private static Object parse(String body) {
        try {
            return JSON.readValue(body, Object.class);
        } catch (Exception e) {
            return Map.of("error", "the trainer's answer is not JSON");
        }
    }

    private static String errorOf(TrainerApi.Answer answer) {
        if (answer.status() == 0) {
            return "the trainer does not answer";
        }
        try {
            JsonNode node = JSON.readTree(answer.body());
            if (node.has("error")) {
                return node.path("error").asText();
            }
        } catch (Exception ignored) {
            // below
        }
        return "the trainer answered HTTP " + answer.status();
    }

    /** The trainer's answer as it is; an endpoint it lacks as 501 with the services' error shape. */
    private static Response forward(String endpoint, TrainerApi.Answer answer) {
        if (answer.unavailable()) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", "not available on this trainer: " + endpoint);
            body.put("status", 501);
            body.put("unavailable", true);
            return Response.status(501).type(MediaType.APPLICATION_JSON_TYPE).entity(body).build();
        }
        if (answer.status() == 0) {
            return SessionResource.error(502, errorOf(answer));
        }
        return Response.status(answer.status()).type(MediaType.APPLICATION_JSON_TYPE).entity(answer.body()).build();
    }
}
