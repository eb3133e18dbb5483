package dev.petal.testing;

import java.util.List;

/**
 * The JVM options the build gives test JVMs (the parent pom's {@code petal.test-jvm-options}), for the service
 * processes a test starts: they are as short-lived as the test, so they get the same.
 */
public final class TestJvm {
    private TestJvm() {
    }

    /** The options, split on spaces; none when the build did not set them (a test run from an IDE). */
    public static List<String> options() {
        String options = System.getProperty("petal.test-jvm-options", "").trim();
        return options.isEmpty() ? List.of() : List.of(options.split("\\s+"));
    }
}
