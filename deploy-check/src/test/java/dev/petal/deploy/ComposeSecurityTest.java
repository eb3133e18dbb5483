package dev.petal.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * docker-compose as issue #26 asks: ports on 127.0.0.1 only, restart policies, health on the management port,
 * a MinIO user per service with a least-privilege policy (never the root account), and secrets whose defaults
 * say they are for local use only.
 */
class ComposeSecurityTest {
    static final List<String> FILES = List.of("docker-compose.yml", "docker-compose.gpu.yml");
    static final List<String> PETAL_SERVICES = List.of("ingest", "trainer", "inference", "console");
    /** {@code ${VAR}} or {@code ${VAR:-default}} as compose interpolates it ({@code $${...}} is a literal for the shell). */
    private static final Pattern VARIABLE = Pattern.compile("(?<!\\$)\\$\\{(\\w+)(?::?-([^}]*))?}");

    /**
     * What each service may do in the bucket, written out from the issue: ingest writes claim-check images;
     * the trainer reads and writes models/ and reads claim-checked images; inference reads both, writes nothing; the
     * console reads both (manifests, thumbnails of scored images), writes nothing.
     * All list the bucket: HeadBucket needs it, and without it a missing key reads as 403 instead of 404.
     */
    static final Map<String, Set<String>> EXPECTED_GRANTS = Map.of(
            "petal-ingest", Set.of("s3:ListBucket arn:aws:s3:::petal",
                    "s3:GetObject arn:aws:s3:::petal/images/*", "s3:PutObject arn:aws:s3:::petal/images/*"),
            "petal-trainer", Set.of("s3:ListBucket arn:aws:s3:::petal",
                    "s3:GetObject arn:aws:s3:::petal/models/*", "s3:PutObject arn:aws:s3:::petal/models/*",
                    "s3:GetObject arn:aws:s3:::petal/images/*"),
            "petal-inference", Set.of("s3:ListBucket arn:aws:s3:::petal",
                    "s3:GetObject arn:aws:s3:::petal/models/*", "s3:GetObject arn:aws:s3:::petal/images/*"),
            "petal-console", Set.of("s3:ListBucket arn:aws:s3:::petal",
                    "s3:GetObject arn:aws:s3:::petal/models/*", "s3:GetObject arn:aws:s3:::petal/images/*"));

    @Test
    void everyPortIsPublishedOnLoopbackOnly() throws Exception {
        List<String> problems = new ArrayList<>();
        for (String file : FILES) {
            services(file).forEach((name, service) -> {
                for (Object port : list(service.get("ports"))) {
                    String where = file + " " + name + " port " + port;
                    if (port instanceof Map<?, ?> longSyntax) {
                        if (!"127.0.0.1".equals(String.valueOf(longSyntax.get("host_ip")))) {
                            problems.add(where + ": host_ip must be 127.0.0.1");
                        }
                    } else if (!String.valueOf(port).startsWith("127.0.0.1:")) {
                        problems.add(where + ": publish as \"127.0.0.1:HOST:CONTAINER\"");
                    }
                }
            });
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void longRunningServicesRestartAndOneShotsSayWhatTheyDo() throws Exception {
        Map<String, Map<String, Object>> services = services("docker-compose.yml");
        Set<String> oneShots = oneShots(services);
        assertEquals(Set.of("kafka-topics", "minio-init"), oneShots, "the set-up containers others wait for");
        List<String> problems = new ArrayList<>();
        services.forEach((name, service) -> {
            Object restart = service.get("restart");
            if (oneShots.contains(name)) {
                if (!"no".equals(restart) && !String.valueOf(restart).startsWith("on-failure")) {
                    problems.add(name + ": a one-shot needs restart \"no\" or on-failure, has " + restart);
                }
            } else if (!"unless-stopped".equals(restart) && !String.valueOf(restart).startsWith("on-failure")) {
                problems.add(name + ": needs restart: unless-stopped (or on-failure), has " + restart);
            }
        });
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    @SuppressWarnings("unchecked")
    void servicesHealthCheckTheManagementPortAndDropPrivileges() throws Exception {
        Map<String, Map<String, Object>> services = services("docker-compose.yml");
        List<String> problems = new ArrayList<>();
        for (String name : PETAL_SERVICES) {
            Map<String, Object> service = services.get(name);
            Map<String, Object> health = (Map<String, Object>) service.get("healthcheck");
            String test = health == null ? "" : String.join(" ", list(health.get("test")).stream().map(String::valueOf).toList());
            if (!test.contains("127.0.0.1/9000") || !test.contains("/q/health/live")) {
                problems.add(name + ": the health check must GET /q/health/live on the management port 9000: " + test);
            }
            if (!list(service.get("cap_drop")).contains("ALL")) {
                problems.add(name + ": cap_drop: [ALL]");
            }
            if (!list(service.get("security_opt")).contains("no-new-privileges:true")) {
                problems.add(name + ": security_opt: [no-new-privileges:true]");
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void noServiceUsesTheMinioRootAccountEachHasItsOwnUser() throws Exception {
        Map<String, Map<String, Object>> services = services("docker-compose.yml");
        Map<String, String> minio = environment(services.get("minio"));
        String rootUser = resolve(minio.get("MINIO_ROOT_USER"));
        String rootPasswordVariable = variableOf(minio.get("MINIO_ROOT_PASSWORD"));
        String init = String.join("\n", list(services.get("minio-init").get("command")).stream().map(String::valueOf).toList());
        List<String> problems = new ArrayList<>();
        Set<String> users = new TreeSet<>();
        for (String name : PETAL_SERVICES) {
            Map<String, String> env = environment(services.get(name));
            String accessKey = resolve(env.get("PETAL_S3_ACCESS_KEY"));
            String secretKey = env.get("PETAL_S3_SECRET_KEY");
            if (accessKey == null || accessKey.equals(rootUser)) {
                problems.add(name + ": PETAL_S3_ACCESS_KEY " + accessKey + " is MinIO's root user");
            }
            if (secretKey == null || rootPasswordVariable.equals(variableOf(secretKey))
                    || resolve(secretKey).equals(resolve(minio.get("MINIO_ROOT_PASSWORD")))) {
                problems.add(name + ": PETAL_S3_SECRET_KEY must not be MinIO's root password");
            }
            if (!("petal-" + name).equals(accessKey)) {
                problems.add(name + ": its MinIO user must be petal-" + name + ", is " + accessKey);
            }
            if (!init.contains("user " + accessKey + " ")) {
                problems.add(name + ": minio-init does not create user " + accessKey);
            }
            users.add(accessKey);
        }
        assertEquals(PETAL_SERVICES.size(), users.size(), "one user per service");
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void eachMinioPolicyGrantsExactlyWhatItsServiceNeeds() throws Exception {
        Map<String, Set<String>> actual = new LinkedHashMap<>();
        for (String user : EXPECTED_GRANTS.keySet()) {
            actual.put(user, grants(RenderedManifests.repositoryRoot().resolve("deploy/minio/" + user + ".json")));
        }
        assertEquals(EXPECTED_GRANTS, actual);
        assertFalse(actual.get("petal-inference").contains("s3:PutObject arn:aws:s3:::petal/models/*"),
                "inference must not write models/");
    }

    @Test
    void everySecretDefaultIsMarkedLocalOnly() throws Exception {
        String text = Files.readString(RenderedManifests.repositoryRoot().resolve("docker-compose.yml"));
        List<String> problems = new ArrayList<>();
        Matcher m = VARIABLE.matcher(text);
        int secrets = 0;
        while (m.find()) {
            if (m.group(1).matches(".*(SECRET|PASSWORD).*")) {
                secrets++;
                if (m.group(2) == null || !m.group(2).startsWith("local-only-")) {
                    problems.add(m.group() + ": a secret's default must start with local-only-");
                }
            }
        }
        assertTrue(secrets >= 5, "root password and four service secrets come from variables, found " + secrets);
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void theRulesCatchWhatTheyShould() throws Exception {
        Path bad = Files.createTempFile("policy", ".json");
        Files.writeString(bad, "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"arn:aws:s3:::petal/*\"}]}");
        assertEquals(Set.of("s3:* arn:aws:s3:::petal/*"), grants(bad));
        Files.delete(bad);
        assertEquals(Set.of("minio-init"), oneShots(Map.of("a", Map.of("depends_on",
                Map.of("minio-init", Map.of("condition", "service_completed_successfully"))), "minio-init", Map.of())));
        assertEquals("local-only-x", resolve("${A:-local-only-x}"));
        assertEquals("A", variableOf("${A:-local-only-x}"));
    }

    /** "ACTION RESOURCE" for every allowed pair of a policy document. */
    static Set<String> grants(Path policy) throws Exception {
        JsonNode doc = new ObjectMapper().readTree(policy.toFile());
        Set<String> grants = new TreeSet<>();
        for (JsonNode statement : doc.path("Statement")) {
            assertEquals("Allow", statement.path("Effect").asText(), policy + ": only Allow statements");
            for (JsonNode action : asArray(statement.path("Action"))) {
                for (JsonNode resource : asArray(statement.path("Resource"))) {
                    grants.add(action.asText() + " " + resource.asText());
                }
            }
        }
        return grants;
    }

    private static Iterable<JsonNode> asArray(JsonNode node) {
        return node.isArray() ? node : List.of(node);
    }

    /** Services that others wait to complete: set-up steps that run once. */
    @SuppressWarnings("unchecked")
    static Set<String> oneShots(Map<String, ? extends Map<String, Object>> services) {
        Set<String> oneShots = new TreeSet<>();
        services.values().forEach(service -> {
            if (service.get("depends_on") instanceof Map<?, ?> deps) {
                deps.forEach((dep, how) -> {
                    if (how instanceof Map<?, ?> h && "service_completed_successfully".equals(h.get("condition"))) {
                        oneShots.add(String.valueOf(dep));
                    }
                });
            }
        });
        return oneShots;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> services(String file) throws Exception {
        Map<String, Object> doc = new Yaml().load(Files.readString(RenderedManifests.repositoryRoot().resolve(file)));
        return (Map<String, Map<String, Object>>) doc.get("services");
    }

    @SuppressWarnings("unchecked")
    static Map<String, String> environment(Map<String, Object> service) {
        Map<String, String> env = new LinkedHashMap<>();
        ((Map<String, Object>) service.getOrDefault("environment", Map.of())).forEach((k, v) -> env.put(k, String.valueOf(v)));
        return env;
    }

    static List<?> list(Object value) {
        return value instanceof List<?> l ? l : value == null ? List.of() : List.of(value);
    }

    /** A value with {@code ${VAR:-default}} replaced by its default (what runs when nothing is set). */
    static String resolve(String value) {
        return value == null ? null : VARIABLE.matcher(value).replaceAll(r -> Matcher.quoteReplacement(r.group(2) == null ? "" : r.group(2)));
    }

    static String variableOf(String value) {
        Matcher m = VARIABLE.matcher(value == null ? "" : value);
        return m.find() ? m.group(1) : "";
    }
}
