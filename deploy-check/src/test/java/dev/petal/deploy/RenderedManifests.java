package dev.petal.deploy;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Finds the repository's deploy/ folder and renders kustomize overlays with {@code kubectl kustomize}. */
final class RenderedManifests {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private RenderedManifests() {}

    static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy/overlays"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            fail("no deploy/overlays folder above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    static List<Path> overlays() throws IOException {
        try (Stream<Path> dirs = Files.list(repositoryRoot().resolve("deploy/overlays"))) {
            return dirs.filter(d -> Files.exists(d.resolve("kustomization.yaml"))).sorted().toList();
        }
    }

    /** Each document of {@code kubectl kustomize dir}, as a JSON tree. */
    static List<JsonNode> render(Path dir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectErrorStream(false);
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new AssertionError("kubectl is needed to render deploy/ overlays (install kubectl; it renders offline)", e);
        }
        byte[] out = process.getInputStream().readAllBytes();
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            fail("kubectl kustomize " + dir + " failed: " + err);
        }
        List<JsonNode> docs = new ArrayList<>();
        try (YAMLParser parser = ((YAMLFactory) YAML.getFactory()).createParser(out)) {
            for (JsonNode doc : YAML.readValues(parser, JsonNode.class).readAll()) {
                if (doc != null && !doc.isEmpty()) {
                    docs.add(doc);
                }
            }
        }
        return docs;
    }
}
