package dev.petal.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** docker-compose.yml (and its GPU override) validate with Compose, and set only keys the services read. */
class ComposeFileTest {
    private static final Set<String> RUNTIME_ENV = Set.of("PYTORCH_FLAVOR", "DJL_OFFLINE", "DJL_CACHE_DIR", "JAVA_OPTS");

    @Test
    void composeConfigValidates() throws Exception {
        List<String> compose = composeCommand();
        assumeTrue(compose != null, "neither 'docker compose' nor 'docker-compose' is installed (.ci/run installs docker-compose)");
        Path root = RenderedManifests.repositoryRoot();
        for (List<String> files : List.of(List.of("docker-compose.yml"), List.of("docker-compose.yml", "docker-compose.gpu.yml"))) {
            List<String> command = new ArrayList<>(compose);
            files.forEach(f -> command.addAll(List.of("-f", root.resolve(f).toString())));
            command.addAll(List.of("config", "-q"));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyServiceVariableIsAConfigurationKey() throws Exception {
        Path root = RenderedManifests.repositoryRoot();
        List<String> problems = new ArrayList<>();
        for (String file : List.of("docker-compose.yml", "docker-compose.gpu.yml")) {
            Map<String, Object> doc = new Yaml().load(Files.readString(root.resolve(file)));
            Map<String, Object> services = (Map<String, Object>) doc.get("services");
            for (String service : List.of("ingest", "trainer", "inference", "console")) {
                Map<String, Object> definition = (Map<String, Object>) services.get(service);
                if (definition == null || definition.get("environment") == null) {
                    continue;
                }
                Set<String> known = ResourceRules.environmentNames(service + "-service");
                for (String name : ((Map<String, Object>) definition.get("environment")).keySet()) {
                    if (!known.contains(name) && !RUNTIME_ENV.contains(name)) {
                        problems.add(file + " " + service + ": " + name + " is not a configuration key of " + service + "-service");
                    }
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    private static List<String> composeCommand() throws Exception {
        for (List<String> candidate : List.of(List.of("docker", "compose"), List.of("docker-compose"))) {
            try {
                List<String> version = new ArrayList<>(candidate);
                version.add("version");
                Process p = new ProcessBuilder(version).redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return candidate;
                }
            } catch (java.io.IOException e) {
                // not installed
            }
        }
        return null;
    }
}
