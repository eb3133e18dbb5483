package dev.petal.trainer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.trainer.registry.ModelViews;
import dev.petal.trainer.service.TrainerConfig;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./petal model ...}: which version serves. Talks to object storage and Kafka directly, like {@code ./petal train},
 * so it works without the trainer service (docs/model-lifecycle.md).
 */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Model versions and their aliases (champion serves, challenger is the runner-up): list, promote, rollback,"
                + " history, compare a shadow's predictions with the champion's.",
        subcommands = {ModelCommand.ListVersions.class, ModelCommand.Promote.class, ModelCommand.Rollback.class, ModelCommand.History.class,
            ModelCommand.Compare.class})
public class ModelCommand {
    static final ObjectMapper JSON = new ObjectMapper();

    static int run(String command, TrainerConfig config, LifecycleCommand.Body body) throws Exception {
        return LifecycleCommand.run("model " + command, config, body);
    }

    static String actor() {
        return "cli:" + System.getProperty("user.name", "unknown");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The model's versions, oldest first, with their metrics, aliases and gate decision.")
    static class ListVersions implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "The model name (default: petal).", defaultValue = "petal")
        String name;
        @Option(names = "--json", description = "Print the API's JSON (GET /models/NAME) instead.")
        boolean json;
        @Inject
        TrainerConfig config;

        @Override
        public Integer call() throws Exception {
            return run("list", config, l -> {
                Map<String, Object> model = ModelViews.model(l.registry(), name);
                if (json) {
                    System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(model));
                    return 0;
                }
                System.out.println(name + ": aliases " + model.get("aliases"));
                System.out.printf("%-26s %-22s %-9s %-9s %-10s %s%n", "VERSION", "ALIASES", "VALID", "CHAMPION", "GATE", "ARCH/LABELS");
                for (Object o : (List<?>) model.get("versions")) {
                    Map<?, ?> v = (Map<?, ?>) o;
                    Map<?, ?> metrics = v.get("metrics") instanceof Map<?, ?> m ? m : Map.of();
                    Map<?, ?> gate = v.get("gate") instanceof Map<?, ?> g ? g : Map.of();
                    System.out.printf("%-26s %-22s %-9s %-9s %-10s %s %s%n", v.get("version"), String.join(",", strings(v.get("aliases"))),
                            percent(metrics.get("validAccuracy")), percent(gate.get("champion")),
                            gate.get("decision") == null ? "" : gate.get("decision"), v.get("arch"), v.get("labels"));
                }
                return 0;
            });
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true, description = "Point an alias (default champion) at VERSION; inference follows within seconds.")
    static class Promote implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", paramLabel = "VERSION")
        String version;
        @Option(names = "--alias", defaultValue = ModelRegistry.CHAMPION, description = "The alias to move (default: ${DEFAULT-VALUE}).")
        String alias;
        @Option(names = "--force", description = "Move it even when VERSION's labels differ from the aliased version's.")
        boolean force;
        @Option(names = "--reason", defaultValue = "", description = "Why, for the history.")
        String reason;
        @Inject
        TrainerConfig config;

        @Override
        public Integer call() throws Exception {
            return run("promote", config, l -> {
                AliasMove move = l.registry().move(name, alias, version, AliasMove.PROMOTE, reason.isBlank() ? "promote" : reason, actor(),
                        force, null);
                System.out.println(name + ": " + alias + " " + (move.from() == null ? "(none)" : move.from()) + " -> " + move.to());
                return 0;
            });
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true, description = "Move an alias (default champion) back to the version it pointed at before.")
    static class Rollback implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--alias", defaultValue = ModelRegistry.CHAMPION, description = "The alias (default: ${DEFAULT-VALUE}).")
        String alias;
        @Option(names = "--reason", defaultValue = "", description = "Why, for the history.")
        String reason;
        @Inject
        TrainerConfig config;

        @Override
        public Integer call() throws Exception {
            return run("rollback", config, l -> {
                AliasMove move = l.registry().rollback(name, alias, reason, actor());
                System.out.println(name + ": " + alias + " " + move.from() + " -> " + move.to() + " (rolled back)");
                return 0;
            });
        }
    }

    @Command(name = "history", mixinStandardHelpOptions = true, description = "Every alias move of the model, oldest first.")
    static class History implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--json", description = "Print the API's JSON (GET /models/NAME/history) instead.")
        boolean json;
        @Inject
        TrainerConfig config;

        @Override
        public Integer call() throws Exception {
            return run("history", config, l -> {
                List<Map<String, Object>> moves = ModelViews.history(l.registry(), name);
                if (json) {
                    System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(moves));
                    return 0;
                }
                for (Map<String, Object> m : moves) {
                    System.out.printf("%s  %-10s %s -> %s  by %s (%s): %s%n", m.get("at"), m.get("alias"), m.get("from") == null ? "(none)" : m.get("from"),
                            m.get("to"), m.get("actor"), m.get("kind"), m.get("reason"));
                }
                return 0;
            });
        }
    }

    /**
     * {@code ./petal model compare NAME}: the champion's predictions ({@code petal.predictions}) against a shadow replica's
     * ({@code petal.predictions.shadow}) for the same keys: agreement, the confusion between the two, and where the input
     * carried a {@code label} header (predictions carry it over) the accuracy of each.
     */
    @Command(name = "compare", mixinStandardHelpOptions = true, description = "Compare petal.predictions with a shadow's petal.predictions.shadow for the same keys.")
    static class Compare implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", defaultValue = "petal", description = "The model name (default: petal).")
        String name;
        @Option(names = "--json", description = "Print the comparison as JSON.")
        boolean json;
        @Inject
        TrainerConfig config;

        @Override
        public Integer call() throws Exception {
            Map<String, JsonNode> main = read(Topics.PREDICTIONS);
            Map<String, JsonNode> shadow = read(Topics.PREDICTIONS_SHADOW);
            Map<String, Object> result = compare(main, shadow, name);
            if (json) {
                System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result));
            } else {
                print(result);
            }
            return 0;
        }

        /** Key to {@code {"label", "version", "truth"}} of the newest prediction of this model per key. */
        private Map<String, JsonNode> read(String topic) {
            Map<String, JsonNode> byKey = new TreeMap<>();
            try (KafkaConsumer<byte[], byte[]> consumer = config.kafka().reader()) {
                List<TopicPartition> partitions = new ArrayList<>();
                consumer.partitionsFor(topic, Duration.ofSeconds(30)).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
                long deadline = System.currentTimeMillis() + 120_000;
                while (System.currentTimeMillis() < deadline && partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        try {
                            JsonNode p = JSON.readTree(r.value());
                            if (r.key() == null || !name.equals(p.path("model").path("name").asText())) {
                                continue;
                            }
                            var label = r.headers().lastHeader(Headers.LABEL);
                            var entry = JSON.createObjectNode().put("label", p.path("label").asText())
                                    .put("version", p.path("model").path("version").asText());
                            if (label != null && label.value() != null) {
                                entry.put("truth", new String(label.value(), StandardCharsets.UTF_8));
                            }
                            byKey.put(new String(r.key(), StandardCharsets.UTF_8), entry);
                        } catch (Exception e) {
                            // not a prediction
                        }
                    }
                }
            }
            return byKey;
        }
    }

    /** The comparison of two prediction maps (key to label, version, truth). */
    static Map<String, Object> compare(Map<String, JsonNode> main, Map<String, JsonNode> shadow, String name) {
        int both = 0;
        int agree = 0;
        int labelled = 0;
        int mainRight = 0;
        int shadowRight = 0;
        TreeSet<String> labels = new TreeSet<>();
        Map<String, Map<String, Integer>> confusion = new TreeMap<>();
        TreeSet<String> mainVersions = new TreeSet<>();
        TreeSet<String> shadowVersions = new TreeSet<>();
        for (Map.Entry<String, JsonNode> e : main.entrySet()) {
            JsonNode s = shadow.get(e.getKey());
            if (s == null) {
                continue;
            }
            both++;
            String a = e.getValue().path("label").asText();
            String b = s.path("label").asText();
            labels.add(a);
            labels.add(b);
            mainVersions.add(e.getValue().path("version").asText());
            shadowVersions.add(s.path("version").asText());
            agree += a.equals(b) ? 1 : 0;
            confusion.computeIfAbsent(a, k -> new TreeMap<>()).merge(b, 1, Integer::sum);
            String truth = e.getValue().path("truth").asText(s.path("truth").asText(""));
            if (!truth.isEmpty()) {
                labelled++;
                mainRight += truth.equals(a) ? 1 : 0;
                shadowRight += truth.equals(b) ? 1 : 0;
            }
        }
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("name", name);
        out.put("keys", both);
        out.put("championVersions", mainVersions);
        out.put("shadowVersions", shadowVersions);
        out.put("agreement", both == 0 ? null : (double) agree / both);
        out.put("labels", labels);
        out.put("confusion", confusion);
        out.put("labelled", labelled);
        out.put("championAccuracy", labelled == 0 ? null : (double) mainRight / labelled);
        out.put("shadowAccuracy", labelled == 0 ? null : (double) shadowRight / labelled);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void print(Map<String, Object> r) {
        System.out.printf("%s: %d keys scored by both (champion %s, shadow %s)%n", r.get("name"), r.get("keys"), r.get("championVersions"),
                r.get("shadowVersions"));
        if ((Integer) r.get("keys") == 0) {
            System.out.println("nothing to compare: no key has a prediction in both petal.predictions and petal.predictions.shadow");
            return;
        }
        System.out.printf("agreement: %s%n", percent(r.get("agreement")));
        TreeSet<String> labels = (TreeSet<String>) r.get("labels");
        Map<String, Map<String, Integer>> confusion = (Map<String, Map<String, Integer>>) r.get("confusion");
        System.out.println("confusion (rows: champion, columns: shadow):");
        System.out.printf("%-14s", "");
        labels.forEach(l -> System.out.printf(" %10s", l.length() > 10 ? l.substring(0, 10) : l));
        System.out.println();
        for (String a : labels) {
            System.out.printf("%-14s", a.length() > 14 ? a.substring(0, 14) : a);
            for (String b : labels) {
                System.out.printf(" %10d", confusion.getOrDefault(a, Map.of()).getOrDefault(b, 0));
            }
            System.out.println();
        }
        if ((Integer) r.get("labelled") > 0) {
            System.out.printf("on %d labelled inputs: champion %s, shadow %s%n", r.get("labelled"), percent(r.get("championAccuracy")),
                    percent(r.get("shadowAccuracy")));
        }
    }

    static String percent(Object value) {
        return value instanceof Number n ? String.format("%.1f%%", 100 * n.doubleValue()) : "";
    }

    static List<String> strings(Object list) {
        List<String> out = new ArrayList<>();
        if (list instanceof List<?> l) {
            l.forEach(o -> out.add(String.valueOf(o)));
        }
        return out;
    }
}
