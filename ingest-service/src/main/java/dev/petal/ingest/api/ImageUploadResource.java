package dev.petal.ingest.api;

import dev.petal.common.auth.Roles;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.image.RejectedImageException;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.ingest.ImageFacts;
import dev.petal.ingest.ImagePublisher;
import dev.petal.ingest.IngestFailedException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * {@code POST /images?id=ID} with the raw image as the body: validated like {@code ingest images},
 * then published to petal.images (202), or to petal.dlq with the reason (422). Either way the
 * record is acknowledged by Kafka before the response is sent. When Kafka (or object storage, for a claim-check) does
 * not take it: 503 with the reason, for this request only; the next upload is tried afresh.
 */
@RolesAllowed({Roles.INGESTER, Roles.ADMIN})
@Path("/images")
public class ImageUploadResource {
    private static final Logger LOG = Logger.getLogger(ImageUploadResource.class);

    @Inject
    UploadPublisher uploads;

    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response upload(byte[] body, @QueryParam("id") String id) {
        byte[] bytes = body == null ? new byte[0] : body;
        String sha = Sha256.hex(bytes);
        String key = id == null || id.isBlank() ? sha : id;
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(Headers.SOURCE, "http-upload");
        try (ImagePublisher publisher = uploads.publisher()) {
            try {
                ImageFacts facts = uploads.check().check(bytes);
                headers.put(Headers.CONTENT_TYPE, facts.contentType());
                headers.put(Headers.COLOR_MODEL, facts.colorModel());
                publisher.send(Topics.IMAGES, key, bytes, sha, headers);
                publisher.flush();
                return Response.accepted(Map.of("id", key, "topic", Topics.IMAGES, "sha256", sha)).build();
            } catch (RejectedImageException e) {
                headers.put(Headers.ERROR_CLASS, e.errorClass());
                headers.put(Headers.ERROR_REASON, e.reason());
                publisher.send(Topics.DLQ, key, bytes, sha, headers);
                publisher.flush();
                return Response.status(422).entity(Map.of("id", key, "topic", Topics.DLQ,
                        "errorClass", e.errorClass(), "reason", e.reason())).build();
            }
        } catch (IngestFailedException e) {
            // This request's record was not taken (Kafka or object storage); the next upload starts afresh.
            LOG.warnf("upload %s not accepted: %s", key, e.getMessage());
            return Response.status(503).entity(Map.of("id", key, "error", e.getMessage())).build();
        }
    }
}
