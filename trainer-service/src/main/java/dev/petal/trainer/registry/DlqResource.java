package dev.petal.trainer.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.petal.common.auth.Roles;
import dev.petal.common.records.DeadLetterReplay;
import dev.petal.common.registry.RegistryException;
import dev.petal.trainer.service.TrainerConfig;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Dead letters over HTTP (the console's contract): {@code GET /dlq} counts and samples (scorer, trainer or admin),
 * {@code POST /dlq/replay} re-publishes them to their source topics, each at most once (admin); {@link DeadLetterReplay}.
 */
@Path("/dlq")
@ApplicationScoped
@Produces(MediaType.APPLICATION_JSON)
public class DlqResource {
    private final TrainerConfig config;
    private final ModelsResource answers;

    public DlqResource(TrainerConfig config, ModelsResource answers) {
        this.config = config;
        this.answers = answers;
    }

    @GET
    @RolesAllowed({Roles.SCORER, Roles.TRAINER, Roles.ADMIN})
    public Response list(@QueryParam("errorClass") String errorClass, @QueryParam("since") String since, @QueryParam("limit") Integer limit) {
        return answers.answer(l -> {
            DeadLetterReplay.Listing listing = l.deadLetters().list(filter(errorClass, since), limit == null ? 20 : Math.max(0, Math.min(limit, 1000)));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("counts", listing.counts());
            out.put("samples", listing.samples());
            return out;
        });
    }

    /** Body {@code {"errorClass": "C", "since": "...", "dryRun": true}}. */
    @POST
    @Path("/replay")
    @Consumes(MediaType.WILDCARD)
    @RolesAllowed(Roles.ADMIN)
    public Response replay(String body) {
        return answers.answer(l -> {
            JsonNode json = ModelsResource.body(body);
            DeadLetterReplay.Outcome outcome = l.deadLetters().replay(filter(text(json, "errorClass"), text(json, "since")),
                    json.path("dryRun").asBoolean(false));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("matched", outcome.matched());
            out.put("replayed", outcome.replayed());
            return out;
        });
    }

    private static String text(JsonNode json, String field) {
        JsonNode v = json.path(field);
        return v.isMissingNode() || v.isNull() || v.asText().isBlank() ? null : v.asText();
    }

    /** The filter; a {@link RegistryException} (400) when {@code since} is not an ISO-8601 instant. */
    public static DeadLetterReplay.Filter filter(String errorClass, String since) {
        Instant from = null;
        if (since != null && !since.isBlank()) {
            try {
                from = Instant.parse(since.trim());
            } catch (DateTimeParseException e) {
                throw RegistryException.badRequest("since is not an ISO-8601 instant like 2026-12-02T08:00:00Z: '" + since + "'");
            }
        }
        return new DeadLetterReplay.Filter(errorClass == null || errorClass.isBlank() ? null : errorClass.trim(), from);
    }
}
