package dev.petal.trainer.registry;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.GateRecord;
import dev.petal.common.registry.ModelRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model lifecycle's answers, the same for the HTTP API ({@code /models}) and the command line ({@code ./petal model}):
 * the JSON shapes of the console's contract (docs/model-lifecycle.md).
 */
public final class ModelViews {
    private ModelViews() {}

    /** {@code GET /models}: each model's aliases and its number of versions. */
    public static List<Map<String, Object>> models(ModelRegistry registry) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String name : registry.models()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("aliases", registry.aliases(name));
            m.put("versions", registry.versions(name).size());
            out.add(m);
        }
        return out;
    }

    /** {@code GET /models/{name}}: its aliases, and every version with its metrics, aliases, spec, dataset and gate decision. */
    public static Map<String, Object> model(ModelRegistry registry, String name) {
        registry.requireModel(name);
        Map<String, String> aliases = registry.aliases(name);
        Map<String, GateRecord> gates = registry.gates(name);
        List<Map<String, Object>> versions = new ArrayList<>();
        for (String version : registry.versions(name)) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("version", version);
            List<String> pointing = new ArrayList<>();
            aliases.forEach((alias, target) -> {
                if (target.equals(version)) {
                    pointing.add(alias);
                }
            });
            try {
                CheckpointManifest manifest = registry.manifest(name, version);
                v.put("createdAt", manifest.createdAt());
                v.put("metrics", manifest.metrics() == null ? Map.of() : manifest.metrics());
                v.put("aliases", pointing);
                v.put("arch", manifest.model() == null ? null : manifest.model().architecture().id());
                v.put("labels", manifest.model() == null ? List.of() : manifest.model().labels());
                Object dataset = manifest.recipe() == null ? null : manifest.recipe().get("dataset");
                v.put("dataset", dataset);
            } catch (RuntimeException e) {
                v.put("aliases", pointing);
                v.put("error", e.getMessage());
            }
            GateRecord gate = gates.get(version);
            if (gate != null) {
                Map<String, Object> g = new LinkedHashMap<>();
                g.put("candidate", gate.candidate());
                g.put("champion", gate.champion());
                g.put("decision", gate.decision());
                g.put("reason", gate.reason());
                v.put("gate", g);
            }
            versions.add(v);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", name);
        out.put("aliases", aliases);
        out.put("versions", versions);
        return out;
    }

    /** {@code GET /models/{name}/history}: every alias move, newest last. */
    public static List<Map<String, Object>> history(ModelRegistry registry, String name) {
        registry.requireModel(name);
        List<Map<String, Object>> out = new ArrayList<>();
        for (AliasMove move : registry.history(name)) {
            out.add(move(move));
        }
        return out;
    }

    /** One move as the API answers it. */
    public static Map<String, Object> move(AliasMove move) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("alias", move.alias());
        m.put("from", move.from());
        m.put("to", move.to());
        m.put("reason", move.reason());
        m.put("actor", move.actor());
        m.put("at", move.at());
        m.put("kind", move.kind());
        m.put("name", move.name());
        return m;
    }
}
