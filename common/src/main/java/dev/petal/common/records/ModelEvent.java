package dev.petal.common.records;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.registry.AliasMove;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A {@code petal.models} event, one per published checkpoint (DESIGN.md, "Kafka topics"): keyed by the model
 * name, its value the manifest's object key and the manifest itself,
 * {@code {"key": "models/<name>/<version>/manifest.json", "manifest": {...}}}. Built and read here only: the
 * trainer publishes it, inference follows it, the soak tool imitates the trainer.
 *
 * <p>The topic's other event is an alias move ({@link #aliasValue}): keyed {@code <name>@<alias>} (so compaction keeps
 * the newest of each alias beside the newest version), its value {@code {"type": "alias", "move": {...}}} with the
 * model, alias, old and new version, kind, reason, actor, time and move number ({@link AliasMove}). Read as a
 * version event it names no version, so a reader that knows only versions ignores it.
 *
 * @param modelName   the manifest's {@code name}, or the record key when the manifest has none
 * @param version     the manifest's {@code version}; empty when it has none
 * @param manifestKey the object key the event points at; empty when it has none
 */
public record ModelEvent(String modelName, String version, String manifestKey) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The record key: the model name, UTF-8. */
    public static byte[] key(CheckpointManifest manifest) {
        return manifest.name().getBytes(StandardCharsets.UTF_8);
    }

    /** The record value announcing {@code manifest}, stored at {@code models/<name>/<version>/manifest.json}. */
    public static byte[] value(CheckpointManifest manifest) {
        try {
            ObjectNode event = JSON.createObjectNode();
            event.put("key", manifestKey(manifest.name(), manifest.version()));
            event.set("manifest", JSON.readTree(CheckpointStore.toJson(manifest)));
            return JSON.writeValueAsBytes(event);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The record key of an alias move: {@code <name>@<alias>}. */
    public static byte[] aliasKey(AliasMove move) {
        return (move.name() + "@" + move.alias()).getBytes(StandardCharsets.UTF_8);
    }

    /** The record value announcing an alias move. */
    public static byte[] aliasValue(AliasMove move) {
        try {
            ObjectNode event = JSON.createObjectNode();
            event.put("type", "alias");
            event.set("move", JSON.valueToTree(move));
            return JSON.writeValueAsBytes(event);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The alias move a {@code petal.models} value announces; empty for a version event or anything unreadable. */
    public static Optional<AliasMove> parseAlias(byte[] value) {
        if (value == null) {
            return Optional.empty();
        }
        try {
            JsonNode event = JSON.readTree(value);
            if (event == null || !"alias".equals(event.path("type").asText()) || !event.path("move").isObject()) {
                return Optional.empty();
            }
            AliasMove move = JSON.treeToValue(event.path("move"), AliasMove.class);
            return move.name() == null || move.alias() == null || move.to() == null ? Optional.empty() : Optional.of(move);
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Where a version's manifest is stored: {@code models/<name>/<version>/manifest.json}. */
    public static String manifestKey(String name, String version) {
        return CheckpointStore.versionPrefix(name, version) + CheckpointManifest.MANIFEST_FILE;
    }

    /**
     * Reads an event as any producer may have written it: only the model name, version and object key are
     * taken, and whoever acts on it checks them.
     *
     * @throws IllegalArgumentException when the value is not a JSON object
     */
    public static ModelEvent parse(byte[] key, byte[] value) {
        String recordKey = key == null ? null : new String(key, StandardCharsets.UTF_8);
        JsonNode event;
        try {
            event = value == null ? null : JSON.readTree(value);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
        if (event == null || !event.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        JsonNode manifest = event.path("manifest");
        return new ModelEvent(manifest.path("name").asText(recordKey), manifest.path("version").asText(""),
                event.path("key").asText(""));
    }
}
