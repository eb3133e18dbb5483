package dev.petal.common.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The bytes a manifest signature covers: a fixed context line, then the manifest's JSON with the
 * {@code signature} field removed, object keys sorted, no whitespace, and every number as Jackson
 * reads it back (a float the trainer wrote as {@code 1.0E-4} reads as the double {@code 1.0E-4}).
 *
 * <p>Both sides compute it from JSON text, never from Java objects: the signer from the manifest it
 * is about to store, the verifier from the stored {@code manifest.json} itself. So a manifest that
 * went through S3 (and a {@code Float} that came back a {@code Double}) canonicalises the same, and
 * what is verified is exactly what inference then parses. Duplicate keys are refused, so a second
 * value cannot hide behind a verified first one.
 */
public final class CanonicalManifest {
    /** Domain separation: a signature over a manifest is no signature over anything else. */
    static final byte[] CONTEXT = "petal checkpoint manifest v1\n".getBytes(StandardCharsets.US_ASCII);
    public static final String SIGNATURE_FIELD = "signature";

    private static final ObjectMapper READER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final ObjectMapper WRITER = new ObjectMapper();

    private CanonicalManifest() {}

    /** The signed bytes for a stored manifest ({@code manifest.json} as is, signed or not). */
    public static byte[] of(byte[] manifestJson) {
        JsonNode tree;
        try {
            tree = READER.readTree(manifestJson);
        } catch (IOException e) {
            throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.MANIFEST,
                    "manifest is not valid JSON: "
                    + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
        }
        if (!(tree instanceof ObjectNode object)) {
            throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.MANIFEST, "manifest is not a JSON object");
        }
        object.remove(SIGNATURE_FIELD);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(manifestJson.length + CONTEXT.length);
            out.write(CONTEXT);
            WRITER.writeValue(out, sorted(object));
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The signed bytes for a manifest about to be stored (its own signature, if any, left out). */
    public static byte[] of(CheckpointManifest manifest) {
        return of(CheckpointStore.toJson(manifest.withSignature(null)));
    }

    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            List<String> names = new ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            Collections.sort(names);
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            for (String name : names) {
                out.set(name, sorted(node.get(name)));
            }
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            node.forEach(element -> out.add(sorted(element)));
            return out;
        }
        return node;
    }
}
