package dev.petal.ingest.api;

import dev.petal.common.auth.Roles;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.image.RejectedImageException;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.ingest.ImageFacts;
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

/**
 * {@code POST /images?id=ID} with the raw image as the body: validated like {@code ingest images},
 * then published to petal.images (202), or to petal.dlq with the reason (422). Either way the
 * record is acknowledged by Kafka before the response is sent.
 */
@RolesAllowed({Roles.INGESTER, Roles.ADMIN})
@Path("/images")
public class ImageUploadResource {
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
        try {
            ImageFacts facts = uploads.check().check(bytes);
            headers.put(Headers.CONTENT_TYPE, facts.contentType());
            headers.put(Headers.COLOR_MODEL, facts.colorModel());
            uploads.publisher().send(Topics.IMAGES, key, bytes, sha, headers);
            uploads.publisher().flush();
            return Response.accepted(Map.of("id", key, "topic", Topics.IMAGES, "sha256", sha)).build();
        } catch (RejectedImageException e) {
            headers.put(Headers.ERROR_CLASS, e.errorClass());
            headers.put(Headers.ERROR_REASON, e.reason());
            uploads.publisher().send(Topics.DLQ, key, bytes, sha, headers);
            uploads.publisher().flush();
            return Response.status(422).entity(Map.of("id", key, "topic", Topics.DLQ,
                    "errorClass", e.errorClass(), "reason", e.reason())).build();
        }
    }
}
