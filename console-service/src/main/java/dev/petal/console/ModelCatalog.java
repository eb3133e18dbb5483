package dev.petal.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.records.UntrustedText;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.registry.RegistryException;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Every published version, read from object storage itself: each {@code models/<name>/<version>/manifest.json} (a
 * version is immutable once its manifest exists, so each is read once) and {@code models/<name>/latest}. A version's
 * summary carries its lineage (the parent version, the dataset and its offset range per partition, the recipe) and
 * its metrics, so the models page works on any trainer; the champion alias is read here too (it decides what
 * inference serves); the other aliases and the promotion gate come from the trainer's lifecycle API where it has one.
 */
@ApplicationScoped
public class ModelCatalog {
    private static final Logger LOG = Logger.getLogger(ModelCatalog.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_MANIFEST_BYTES = 4L << 20;
    private static final long REFRESH_NANOS = 3_000_000_000L;

    private final ConsoleClients clients;
    private final Map<String, Map<String, Object>> versions = new ConcurrentHashMap<>();
    private volatile Map<String, String> latest = Map.of();
    private volatile Map<String, String> champions = Map.of();
    private volatile long refreshedAt;
    private volatile String problem;

    public ModelCatalog(ConsoleClients clients) {
        this.clients = clients;
    }

    /** Model name to its versions, oldest first, each a summary of its manifest; read again at most every few seconds. */
    public synchronized Map<String, List<Map<String, Object>>> models() {
        if (System.nanoTime() - refreshedAt > REFRESH_NANOS || refreshedAt == 0) {
            refresh();
        }
        Map<String, List<Map<String, Object>>> byName = new TreeMap<>();
        for (Map<String, Object> v : versions.values()) {
            byName.computeIfAbsent((String) v.get("name"), n -> new ArrayList<>()).add(v);
        }
        byName.values().forEach(list -> list.sort(Comparator.comparing(v -> String.valueOf(v.get("version")))));
        return byName;
    }

    /** The version {@code models/<name>/latest} names, if any. */
    public String latest(String name) {
        return latest.get(name);
    }

    /**
     * The version the model's {@code champion} alias points at, read as inference reads it ({@link ModelRegistry}, the
     * alias's history in object storage): what inference serves by default, once it has loaded it.
     */
    public String champion(String name) {
        return champions.get(name);
    }

    /** Why storage could not be read at the last try, or null. */
    public String problem() {
        return problem;
    }

    private void refresh() {
        refreshedAt = System.nanoTime();
        try {
            List<String> keys = clients.store().list("models/");
            Map<String, String> newest = new LinkedHashMap<>();
            for (String key : keys) {
                String[] parts = key.split("/");
                if (parts.length == 4 && parts[3].equals("manifest.json") && !versions.containsKey(key)) {
                    Map<String, Object> summary = summary(key, parts[1], parts[2]);
                    if (summary != null) {
                        versions.put(key, summary);
                    }
                } else if (parts.length == 3 && parts[2].equals("latest")) {
                    String version = new String(clients.store().get(key, 256), StandardCharsets.UTF_8).trim();
                    newest.put(parts[1], UntrustedText.oneLine(version, 128));
                }
            }
            latest = newest;
            Map<String, String> championNow = new LinkedHashMap<>();
            ModelRegistry registry = new ModelRegistry(clients.store());
            for (Map<String, Object> v : versions.values()) {
                String name = (String) v.get("name");
                if (!championNow.containsKey(name)) {
                    championNow.put(name, champion(registry, name));
                }
            }
            championNow.values().removeIf(Objects::isNull);
            champions = championNow;
            problem = null;
        } catch (RuntimeException e) {
            problem = "object storage: " + UntrustedText.oneLine(String.valueOf(e.getMessage()), 200);
            LOG.debugf("reading the models failed: %s", e);
        }
    }

    private static String champion(ModelRegistry registry, String name) {
        try {
            return registry.resolve(name, ModelRegistry.CHAMPION).map(v -> UntrustedText.oneLine(v, 128)).orElse(null);
        } catch (RegistryException e) {
            return null; // a folder name the registry does not take as a model name: no alias can point into it
        }
    }

    private Map<String, Object> summary(String key, String name, String version) {
        JsonNode m;
        try {
            m = JSON.readTree(clients.store().get(key, MAX_MANIFEST_BYTES));
        } catch (Exception e) {
            LOG.debugf("unreadable manifest %s: %s", key, e);
            return null;
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", name);
        s.put("version", version);
        s.put("createdAt", text(m, "createdAt"));
        s.put("parentVersion", text(m, "parentVersion"));
        s.put("epoch", m.path("epoch").asInt());
        s.put("step", m.path("step").asLong());
        JsonNode model = m.path("model");
        s.put("arch", text(model, "architecture"));
        s.put("imageSize", model.path("imageSize").asInt());
        List<String> labels = new ArrayList<>();
        model.path("labels").forEach(l -> labels.add(UntrustedText.oneLine(l.asText(), 128)));
        s.put("labels", labels);
        Map<String, Object> metrics = new LinkedHashMap<>();
        m.path("metrics").fields().forEachRemaining(e -> {
            if (e.getValue().isNumber()) {
                metrics.put(e.getKey(), e.getValue().numberValue());
            }
        });
        s.put("metrics", metrics);
        s.put("recipe", JSON.convertValue(m.path("recipe"), Map.class));
        JsonNode dataset = m.path("dataset");
        Map<String, Object> lineage = new LinkedHashMap<>();
        lineage.put("topic", text(dataset, "topic"));
        lineage.put("offsets", JSON.convertValue(dataset.path("offsets"), Map.class));
        lineage.put("name", text(m.path("recipe"), "dataset"));
        s.put("dataset", lineage);
        s.put("signed", m.hasNonNull("signature"));
        return s;
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isMissingNode() || v.isNull() ? null : UntrustedText.oneLine(v.asText(), 200);
    }
}
