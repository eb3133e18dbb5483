package dev.petal.localstack;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Quarkus tests: {@code @QuarkusTestResource(LocalStackTestResource.class)} (or
 * {@code @WithTestResource}) points the application at the JVM-wide {@link LocalStack#shared()}
 * stack through {@code kafka.bootstrap.servers} and the {@code petal.s3.*} keys, turns Kafka
 * Dev Services off and keeps the embedded servers' logging at WARN.
 *
 * <p>Quarkus may load this class in more than one class loader in one JVM; the addresses of the
 * first stack are published as a system property so that every loader reuses that one stack.
 * The consumer supplies {@code io.quarkus:quarkus-test-common} (every Quarkus test has it).
 */
public class LocalStackTestResource implements QuarkusTestResourceLifecycleManager {

    /** The system property that carries the shared stack's client configuration. */
    public static final String SHARED_CONFIG_PROPERTY = "petal.local-stack.shared-config";

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new LinkedHashMap<>(sharedClientConfig());
        config.put("quarkus.kafka.devservices.enabled", "false");
        for (String category : QuietLogging.CATEGORIES) {
            config.put("quarkus.log.category.\"" + category + "\".level", "WARN");
        }
        return config;
    }

    @Override
    public void stop() {
        // The shared stack outlives a test class; it stops when the JVM exits.
    }

    /** The client configuration of this JVM's shared stack, started here unless another class loader did. */
    static Map<String, String> sharedClientConfig() {
        synchronized (System.class) {
            String published = System.getProperty(SHARED_CONFIG_PROPERTY);
            if (published != null) {
                return decode(published);
            }
            Map<String, String> config = LocalStack.shared().clientConfig();
            System.setProperty(SHARED_CONFIG_PROPERTY, encode(config));
            return config;
        }
    }

    private static String encode(Map<String, String> config) {
        Properties properties = new Properties();
        properties.putAll(config);
        StringWriter out = new StringWriter();
        try {
            properties.store(out, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static Map<String, String> decode(String text) {
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> config = new LinkedHashMap<>();
        properties.stringPropertyNames().forEach(key -> config.put(key, properties.getProperty(key)));
        return config;
    }
}
