package dev.petal.inference.api;

import dev.petal.common.auth.Roles;
import dev.petal.common.inference.Prediction;
import dev.petal.inference.model.ModelHolder;
import dev.petal.inference.scoring.ImageInput;
import dev.petal.inference.scoring.ImageScorer;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/**
 * {@code POST /predict}: one image as the raw body or as the first file of a multipart form,
 * scored by the loaded model; answers the same prediction JSON as the Kafka path (no source, no
 * latency). 422 with {@code errorClass}/{@code reason} for an input that is not an acceptable
 * image, 503 before a model is loaded. For debugging and simple clients: the Kafka path is the
 * one that scales and never loses an input.
 */
@RolesAllowed({Roles.SCORER, Roles.ADMIN})
@Path("/predict")
public class PredictResource {
    private final ModelHolder holder;
    private final ImageScorer scorer;

    public PredictResource(ModelHolder holder, ImageScorer scorer) {
        this.holder = holder;
        this.scorer = scorer;
    }

    @POST
    @Consumes({MediaType.APPLICATION_OCTET_STREAM, "image/*"})
    @Produces(MediaType.APPLICATION_JSON)
    public Response raw(byte[] body, @QueryParam("id") String id) {
        return score(body, id);
    }

    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @Produces(MediaType.APPLICATION_JSON)
    public Response multipart(@RestForm(FileUpload.ALL) List<FileUpload> files, @QueryParam("id") String id) {
        if (files == null || files.isEmpty()) {
            return Response.status(400).entity(Map.of("errorClass", "empty", "reason", "the form has no file part")).build();
        }
        try {
            return score(Files.readAllBytes(files.get(0).uploadedFile()), id);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Response score(byte[] body, String id) {
        Optional<ModelHolder.Lease> held = holder.acquire();
        if (held.isEmpty()) {
            return Response.status(503).entity(Map.of("errorClass", "no-model", "reason", "no model is loaded yet")).build();
        }
        try (ModelHolder.Lease lease = held.get()) {
            ImageScorer.Outcome outcome = scorer.score(List.of(ImageInput.of(body == null ? new byte[0] : body)),
                    lease.classifier()).get(0);
            if (!outcome.scored()) {
                return Response.status(422).entity(Map.of("errorClass", outcome.rejection().errorClass(),
                        "reason", outcome.rejection().reason())).build();
            }
            String predictionId = id == null || id.isBlank() ? UUID.randomUUID().toString() : id;
            return Response.ok(Prediction.of(predictionId, outcome.top(), lease.classifier().id(), null, null)).build();
        }
    }
}
