package dev.petal.localstack.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.acl.AclBinding;
import org.junit.jupiter.api.Test;

/**
 * The secure local stack grants what docs/security.md's "Kafka principals" table says, entry for entry (deploy-check's
 * KafkaAclTest holds the production manifests to the same table), but for petal-keda, which has no local use.
 */
class KafkaAclsTest {
    private static final Pattern RESOURCE = Pattern.compile("(topic|group|transactionalId) `([^`]+)` \\((literal|prefix)\\)");

    @Test
    void theLocalGrantsAreTheDocumentedTable() throws Exception {
        Set<String> documented = new TreeSet<>();
        String principal = null;
        boolean inTable = false;
        for (String line : Files.readAllLines(repositoryRoot().resolve("docs/security.md"))) {
            if (line.startsWith("| principal | resource")) {
                inTable = true;
                continue;
            }
            if (inTable && !line.startsWith("|")) {
                break;
            }
            if (!inTable || line.startsWith("| ---")) {
                continue;
            }
            String[] cells = line.split("\\|");
            String first = cells[1].trim().replace("`", "");
            if (!first.isEmpty()) {
                principal = first;
            }
            Matcher resource = RESOURCE.matcher(cells[2]);
            assertTrue(resource.find(), "a resource in: " + line);
            if (principal.equals("petal-keda")) {
                continue;
            }
            for (String operation : cells[3].split(",")) {
                documented.add(principal + " " + resource.group(1).toLowerCase(Locale.ROOT) + " " + resource.group(2) + " "
                        + (resource.group(3).equals("prefix") ? "prefixed" : "literal") + " " + operation.trim().toLowerCase(Locale.ROOT));
            }
        }
        assertTrue(documented.size() > 20, "the table was read: " + documented);
        Set<String> local = new TreeSet<>();
        for (AclBinding acl : KafkaAcls.bindings()) {
            local.add(acl.entry().principal().substring("User:".length()) + " "
                    + acl.pattern().resourceType().name().toLowerCase(Locale.ROOT).replace("_", "") + " " + acl.pattern().name() + " "
                    + acl.pattern().patternType().name().toLowerCase(Locale.ROOT) + " " + acl.entry().operation().name().toLowerCase(Locale.ROOT));
        }
        assertEquals(documented, local); // transactionalId and TRANSACTIONAL_ID both read "transactionalid"
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (!Files.exists(dir.resolve("petal"))) {
            dir = dir.getParent();
        }
        return dir;
    }
}
