package dev.petal.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Kafka principals (issue #26): one SCRAM-SHA-512 KafkaUser per service on Strimzi's kafka.strimzi.io/v1 API,
 * with exactly the grants below, and the production workloads and KEDA authenticating as them.
 */
class KafkaAclTest {
    /**
     * Written out from the list, not read from the YAML. Entries are "resource-type name pattern
     * Operation". Read and Write imply Describe in Kafka; the users list it explicitly, so the table does too.
     * Beyond the list, from the code: ingest reads petal.train (TrainTopicIndex skips images already
     * published; no consumer group); the trainer's groups start petal-trainer- (petal-trainer-dead-letters keeps how
     * far bad records went to petal.dlq; each trainer serve instance follows petal.train and petal.models in its own
     * petal-trainer-arrivals-* and petal-trainer-models-* groups); inference follows petal.models in each replica's
     * own petal-inference-models-* group (so its group grant is the prefix petal-inference) and its transactional
     * ids are petal-inference-<uuid> (KafkaClients.transactionalId); KEDA only describes the lag of petal-inference; the
     * console reads predictions, dead letters and scored images by assignment and describes the scoring group (lag).
     */
    static final Map<String, Set<String>> EXPECTED = Map.of(
            "petal-ingest", Set.of(
                    "topic petal.train literal Write", "topic petal.train literal Describe", "topic petal.train literal Read",
                    "topic petal.images literal Write", "topic petal.images literal Describe",
                    "topic petal.dlq literal Write", "topic petal.dlq literal Describe"),
            "petal-trainer", Set.of(
                    "topic petal.train literal Read", "topic petal.train literal Describe",
                    "group petal-trainer- prefix Read",
                    "topic petal.models literal Write", "topic petal.models literal Describe", "topic petal.models literal Read",
                    "topic petal.dlq literal Write", "topic petal.dlq literal Describe", "topic petal.dlq literal Read",
                    "group petal-dlq-replay. prefix Read",
                    "transactionalId petal-dlq-replay- prefix Write", "transactionalId petal-dlq-replay- prefix Describe",
                    "topic petal.images literal Write", "topic petal.images literal Describe", "topic petal.train literal Write"),
            "petal-inference", Set.of(
                    "topic petal.images literal Read", "topic petal.images literal Describe",
                    "group petal-inference prefix Read",
                    "topic petal.models literal Read", "topic petal.models literal Describe",
                    "topic petal.predictions literal Write", "topic petal.predictions literal Describe",
                    "topic petal.predictions.shadow literal Write", "topic petal.predictions.shadow literal Describe",
                    "topic petal.dlq literal Write", "topic petal.dlq literal Describe",
                    "transactionalId petal-inference prefix Write", "transactionalId petal-inference prefix Describe"),
            "petal-console", Set.of(
                    "topic petal.predictions literal Read", "topic petal.predictions literal Describe",
                    "topic petal.dlq literal Read", "topic petal.dlq literal Describe",
                    "topic petal.images literal Read", "topic petal.images literal Describe",
                    "group petal-inference literal Describe"),
            "petal-keda", Set.of(
                    "topic petal.images literal Describe", "group petal-inference literal Describe"));

    /** Which Kafka user each workload's container authenticates as. */
    static final Map<String, String> USER_OF_CONTAINER = Map.of("ingest", "petal-ingest", "trainer", "petal-trainer",
            "inference", "petal-inference", "console", "petal-console");

    @Test
    void eachKafkaUserHasExactlyItsGrants() throws Exception {
        List<String> problems = new ArrayList<>();
        Map<String, Set<String>> actual = grants(RenderedManifests.render(RenderedManifests.repositoryRoot().resolve("deploy/strimzi")), problems);
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertEquals(EXPECTED, actual);
        assertFalse(actual.get("petal-inference").stream().anyMatch(g -> g.startsWith("topic petal.models") && g.endsWith("Write")),
                "inference must not publish model events");
    }

    @Test
    void productionWorkloadsAndKedaAuthenticateAsTheirUsers() throws Exception {
        List<String> problems = new ArrayList<>();
        for (String overlay : List.of("production", "gpu")) {
            Path dir = RenderedManifests.repositoryRoot().resolve("deploy/overlays/" + overlay);
            List<JsonNode> docs = RenderedManifests.render(dir);
            Set<String> users = grants(docs, problems).keySet();
            assertEquals(EXPECTED.keySet(), users, overlay + ": the Kafka users it deploys");
            Map<String, JsonNode> configMaps = byName(docs, "ConfigMap");
            Map<String, JsonNode> triggerAuths = byName(docs, "TriggerAuthentication");
            for (JsonNode doc : docs) {
                String kind = doc.path("kind").asText();
                String name = overlay + " " + kind + "/" + doc.path("metadata").path("name").asText();
                if (Set.of("Deployment", "Job", "StatefulSet").contains(kind)) {
                    for (JsonNode c : doc.path("spec").path("template").path("spec").path("containers")) {
                        String user = USER_OF_CONTAINER.get(c.path("name").asText());
                        Map<String, JsonNode> env = new LinkedHashMap<>();
                        c.path("env").forEach(e -> env.put(e.path("name").asText(), e));
                        expectValue(env, "KAFKA_SECURITY_PROTOCOL", "SASL_SSL", name, problems);
                        expectValue(env, "KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", name, problems);
                        JsonNode jaas = env.getOrDefault("KAFKA_SASL_JAAS_CONFIG", RenderedManifests.YAML.nullNode())
                                .path("valueFrom").path("secretKeyRef");
                        if (user == null || !user.equals(jaas.path("name").asText()) || !"sasl.jaas.config".equals(jaas.path("key").asText())) {
                            problems.add(name + ": KAFKA_SASL_JAAS_CONFIG must come from Secret " + user + " key sasl.jaas.config, is " + jaas);
                        }
                    }
                } else if ("ScaledObject".equals(kind)) {
                    for (JsonNode trigger : doc.path("spec").path("triggers")) {
                        if (!"kafka".equals(trigger.path("type").asText())) {
                            continue;
                        }
                        if (!"scram_sha512".equals(trigger.path("metadata").path("sasl").asText())
                                || !"enable".equals(trigger.path("metadata").path("tls").asText())) {
                            problems.add(name + ": the kafka trigger needs sasl: scram_sha512 and tls: enable");
                        }
                        JsonNode auth = triggerAuths.get(trigger.path("authenticationRef").path("name").asText());
                        if (auth == null) {
                            problems.add(name + ": authenticationRef names no TriggerAuthentication in the overlay");
                            continue;
                        }
                        String password = "";
                        for (JsonNode ref : auth.path("spec").path("secretTargetRef")) {
                            if ("password".equals(ref.path("parameter").asText())) {
                                password = ref.path("name").asText() + "/" + ref.path("key").asText();
                            }
                        }
                        String username = "";
                        for (JsonNode ref : auth.path("spec").path("configMapTargetRef")) {
                            if ("username".equals(ref.path("parameter").asText())) {
                                username = configMaps.getOrDefault(ref.path("name").asText(), RenderedManifests.YAML.nullNode())
                                        .path("data").path(ref.path("key").asText()).asText();
                            }
                        }
                        assertEquals("petal-keda/password", password, name + ": KEDA's password from the Secret of KafkaUser petal-keda");
                        assertEquals("petal-keda", username, name + ": KEDA's user name");
                    }
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void theRulesCatchWhatTheyShould() throws Exception {
        List<String> problems = new ArrayList<>();
        JsonNode old = RenderedManifests.YAML.readTree("""
                apiVersion: kafka.strimzi.io/v1beta2
                kind: KafkaUser
                metadata: {name: u}
                spec:
                  authentication: {type: tls}
                  authorization:
                    type: simple
                    acls: [{resource: {type: topic, name: t}, operation: All}]
                """);
        Map<String, Set<String>> g = grants(List.of(old), problems);
        String all = String.join("\n", problems);
        for (String expected : List.of("kafka.strimzi.io/v1", "scram-sha-512", "operations", "All")) {
            assertTrue(all.contains(expected), "no problem says '" + expected + "':\n" + all);
        }
        assertEquals(Map.of("u", Set.of("topic t literal All")), g);
    }

    /** user -> its grants as "type name pattern Operation"; problems for anything but v1, SCRAM, simple, named operations. */
    static Map<String, Set<String>> grants(List<JsonNode> docs, List<String> problems) {
        Map<String, Set<String>> users = new LinkedHashMap<>();
        for (JsonNode doc : docs) {
            if (!"KafkaUser".equals(doc.path("kind").asText())) {
                continue;
            }
            String user = doc.path("metadata").path("name").asText();
            JsonNode spec = doc.path("spec");
            if (!"kafka.strimzi.io/v1".equals(doc.path("apiVersion").asText())) {
                problems.add(user + ": apiVersion must be kafka.strimzi.io/v1");
            }
            if (!"scram-sha-512".equals(spec.path("authentication").path("type").asText())) {
                problems.add(user + ": authentication.type must be scram-sha-512");
            }
            if (!"simple".equals(spec.path("authorization").path("type").asText())) {
                problems.add(user + ": authorization.type must be simple");
            }
            Set<String> grants = new TreeSet<>();
            for (JsonNode acl : spec.path("authorization").path("acls")) {
                JsonNode resource = acl.path("resource");
                if (acl.has("operation") || !acl.path("operations").isArray()) {
                    problems.add(user + ": an ACL needs operations (a list; v1 has no 'operation')");
                }
                if (acl.has("host") && !"*".equals(acl.path("host").asText())) {
                    problems.add(user + ": host-restricted ACLs are not checked here");
                }
                if (acl.has("type") && !"allow".equals(acl.path("type").asText())) {
                    problems.add(user + ": only allow rules");
                }
                List<String> operations = new ArrayList<>();
                acl.path("operations").forEach(o -> operations.add(o.asText()));
                if (acl.has("operation")) {
                    operations.add(acl.path("operation").asText());
                }
                for (String operation : operations) {
                    if ("All".equals(operation)) {
                        problems.add(user + ": grants All on " + resource);
                    }
                    grants.add(resource.path("type").asText() + " " + resource.path("name").asText("*") + " "
                            + resource.path("patternType").asText("literal") + " " + operation);
                }
            }
            users.put(user, grants);
        }
        return users;
    }

    private static Map<String, JsonNode> byName(List<JsonNode> docs, String kind) {
        Map<String, JsonNode> found = new LinkedHashMap<>();
        docs.stream().filter(d -> kind.equals(d.path("kind").asText())).forEach(d -> found.put(d.path("metadata").path("name").asText(), d));
        return found;
    }

    private static void expectValue(Map<String, JsonNode> env, String name, String value, String where, List<String> problems) {
        if (!value.equals(env.getOrDefault(name, RenderedManifests.YAML.nullNode()).path("value").asText(null))) {
            problems.add(where + ": " + name + " must be " + value);
        }
    }
}
