package dev.petal.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The images that run libtorch use the launcher's allocator: tcmalloc preloaded from a path the image
 * creates, and the launcher's glibc settings as the fallback. The manifests set none of these, so the
 * images are where the services get them.
 */
class ContainerAllocatorTest {
    private static final List<String> LIBTORCH_IMAGES = List.of(
            "trainer-service/src/main/docker/Dockerfile.jvm",
            "trainer-service/src/main/docker/Dockerfile.cuda",
            "inference-service/src/main/docker/Dockerfile.jvm");
    private static final Pattern ASSIGNMENT = Pattern.compile("(\\w+)=(\"[^\"]*\"|\\S+)");

    @Test
    void libtorchImagesPreloadTcmallocWithTheLaunchersFallback() throws Exception {
        Map<String, String> launcher = launcherGlibcEnvironment();
        assertFalse(launcher.isEmpty(), "./petal env printed nothing");
        List<String> problems = new ArrayList<>();
        for (String file : LIBTORCH_IMAGES) {
            String dockerfile = Files.readString(RenderedManifests.repositoryRoot().resolve(file)).replace("\\\n", " ");
            Map<String, String> env = environment(dockerfile);
            String preload = env.get("LD_PRELOAD");
            if (preload == null) {
                problems.add(file + ": no ENV LD_PRELOAD");
            } else if (!dockerfile.contains("libtcmalloc-minimal4")
                    || !Pattern.compile("ln -s \\S*libtcmalloc_minimal\\.so\\.4 " + Pattern.quote(preload) + "\\s").matcher(dockerfile).find()) {
                problems.add(file + ": LD_PRELOAD=" + preload + " is not where the image installs and links libtcmalloc_minimal.so.4");
            }
            launcher.forEach((name, value) -> {
                if (name.startsWith("MALLOC_") || name.equals("DJL_OFFLINE")) {
                    if (!value.equals(env.get(name))) {
                        problems.add(file + ": " + name + "=" + env.get(name) + ", the launcher sets " + value);
                    }
                }
            });
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /** Every NAME=value of the file's ENV instructions, quotes removed. */
    private static Map<String, String> environment(String dockerfile) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : dockerfile.split("\n")) {
            if (line.startsWith("ENV ")) {
                Matcher m = ASSIGNMENT.matcher(line.substring(4));
                while (m.find()) {
                    env.put(m.group(1), m.group(2).replace("\"", ""));
                }
            }
        }
        return env;
    }

    /** What ./petal env prints with the glibc allocator: the settings every JVM the launcher starts gets. */
    private static Map<String, String> launcherGlibcEnvironment() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "petal", "env").directory(RenderedManifests.repositoryRoot().toFile());
        pb.environment().put("PETAL_ALLOCATOR", "glibc");
        List.of("MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "DJL_OFFLINE").forEach(pb.environment()::remove);
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return env;
    }
}
