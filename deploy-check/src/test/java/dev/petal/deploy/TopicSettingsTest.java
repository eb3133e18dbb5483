package dev.petal.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Every environment creates the topics with the same retention (issue #27): petal.train and petal.models
 * kept forever by time and by size, petal.models compacted on its key. The table is written out here, not
 * read from the files it checks.
 */
class TopicSettingsTest {
    static final Map<String, Map<String, String>> EXPECTED = Map.of(
            "petal.train", Map.of("retention.ms", "-1", "retention.bytes", "-1"),
            "petal.models", Map.of("retention.ms", "-1", "retention.bytes", "-1", "cleanup.policy", "compact"));
    private static final Pattern ADD_CONFIG = Pattern.compile("--entity-name\\s+(\\S+)\\s+--add-config\\s+(\\S+)");

    @Test
    void strimziTopicsKeepTheDatasetAndModelEventsForever() throws Exception {
        List<String> problems = new ArrayList<>();
        for (Path dir : List.of(RenderedManifests.repositoryRoot().resolve("deploy/strimzi"))) {
            Map<String, JsonNode> topics = new LinkedHashMap<>();
            for (JsonNode doc : RenderedManifests.render(dir)) {
                if ("KafkaTopic".equals(doc.path("kind").asText())) {
                    topics.put(doc.path("spec").path("topicName").asText(), doc);
                    if (!"kafka.strimzi.io/v1".equals(doc.path("apiVersion").asText())) {
                        problems.add(doc.path("metadata").path("name").asText() + ": apiVersion must be kafka.strimzi.io/v1");
                    }
                }
            }
            EXPECTED.forEach((topic, settings) -> {
                JsonNode doc = topics.get(topic);
                if (doc == null) {
                    problems.add(dir + ": no KafkaTopic for " + topic);
                    return;
                }
                settings.forEach((key, value) -> {
                    String actual = doc.path("spec").path("config").path(key).asText(null);
                    if (!value.equals(actual)) {
                        problems.add("KafkaTopic " + topic + ": " + key + " is " + actual + ", must be " + value);
                    }
                });
            });
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    @SuppressWarnings("unchecked")
    void composeCreatesTheTopicsWithTheSameSettings() throws Exception {
        Map<String, Object> doc = new Yaml().load(Files.readString(RenderedManifests.repositoryRoot().resolve("docker-compose.yml")));
        Map<String, Object> service = (Map<String, Object>) ((Map<String, Object>) doc.get("services")).get("kafka-topics");
        String script = String.join("\n", (List<String>) service.get("command")).replace("\\\n", " ");
        assertEquals(EXPECTED, addedConfigs(script), "kafka-configs.sh --add-config per topic in docker-compose.yml kafka-topics");
    }

    @Test
    void theComposeParserReadsWhatItShould() {
        String script = "kafka-configs.sh --alter --entity-type topics --entity-name petal.train --add-config retention.ms=-1";
        assertEquals(Map.of("petal.train", Map.of("retention.ms", "-1")), addedConfigs(script));
    }

    /** topic -> settings of every {@code --entity-name T --add-config k=v,...} in a shell script. */
    static Map<String, Map<String, String>> addedConfigs(String script) {
        Map<String, Map<String, String>> configs = new TreeMap<>();
        Matcher m = ADD_CONFIG.matcher(script);
        while (m.find()) {
            Map<String, String> settings = configs.computeIfAbsent(m.group(1), t -> new TreeMap<>());
            for (String pair : m.group(2).split(",")) {
                String[] kv = pair.split("=", 2);
                settings.put(kv[0], kv.length > 1 ? kv[1] : "");
            }
        }
        return configs;
    }
}
