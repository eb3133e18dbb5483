package dev.petal.localstack;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps the embedded servers' chatter at WARN, whichever logging backend the host JVM has.
 * S3Proxy's own default is DEBUG (one run wrote a 1 GB log) and the broker logs hundreds of
 * INFO lines per start.
 *
 * <p>Covers slf4j-simple (this module's tests and runnable jar: system properties, read when each
 * logger is created) and java.util.logging, which is also how jboss-logmanager (Quarkus) is
 * configured. Settings made explicitly by the user are left alone. Quarkus tests get the same
 * levels as configuration from {@link LocalStackTestResource}.
 */
public final class QuietLogging {

    /** The noisy logger categories. */
    static final List<String> CATEGORIES = List.of(
            "org.gaul", "org.eclipse.jetty", "org.gaul.shaded.org.eclipse.jetty",
            "org.apache.kafka", "kafka", "state.change.logger");

    private static final String SIMPLE_PREFIX = "org.slf4j.simpleLogger.log.";
    // JUL holds loggers weakly: keep them, or the level is forgotten when they are collected.
    private static final List<Logger> KEPT = new ArrayList<>();
    private static boolean applied;

    private QuietLogging() {
    }

    public static synchronized void apply() {
        if (applied) {
            return;
        }
        applied = true;
        for (String category : CATEGORIES) {
            if (System.getProperty(SIMPLE_PREFIX + category) == null) {
                System.setProperty(SIMPLE_PREFIX + category, "warn");
            }
            Logger logger = Logger.getLogger(category);
            if (logger.getLevel() == null) {
                logger.setLevel(Level.WARNING);
            }
            KEPT.add(logger);
        }
    }
}
