package dev.petal.localstack.pipeline;

import dev.petal.localstack.auth.KafkaUsers;
import dev.petal.localstack.auth.TokenIssuer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code ./petal up} gives one service: configuration keys, passed as {@code -D} options and so visible in the
 * process list (nothing secret), and environment variables, which only the owner can read (the Kafka login of the
 * service's own principal on a secure stack).
 *
 * @param properties the stack's client configuration, the API and management ports on the listen address, and the
 *        token verification (the local key pair's public half, issuer {@code petal-local}, audience {@code petal})
 * @param environment {@code KAFKA_SASL_JAAS_CONFIG} of the service's principal on a secure stack; else empty
 */
record ServiceSettings(Map<String, String> properties, Map<String, String> environment) {
    static final String JAAS_KEY = "kafka.sasl.jaas.config";
    static final String JAAS_VARIABLE = "KAFKA_SASL_JAAS_CONFIG";

    /**
     * @param stackConfig {@link StateDir#clientConfig()} (on a secure stack it holds the admin's login, which a service
     *        never gets)
     * @param users the principals of a secure stack, else null
     */
    static ServiceSettings of(String service, Map<String, String> stackConfig, int port, int managementPort, String bindAddress,
                              Path publicKeyFile, KafkaUsers users) {
        Map<String, String> properties = new LinkedHashMap<>(stackConfig);
        properties.remove(JAAS_KEY);
        properties.put("quarkus.http.host", bindAddress);
        properties.put("quarkus.http.port", Integer.toString(port));
        properties.put("quarkus.management.host", bindAddress);
        properties.put("quarkus.management.port", Integer.toString(managementPort));
        properties.put("mp.jwt.verify.publickey.location", publicKeyFile.toAbsolutePath().toString());
        properties.put("mp.jwt.verify.issuer", TokenIssuer.LOCAL_ISSUER);
        properties.put("mp.jwt.verify.audiences", TokenIssuer.LOCAL_AUDIENCE);
        Map<String, String> environment = new LinkedHashMap<>();
        // The object store's secret key too: PETAL_S3_SECRET_KEY for petal.s3.secret-key.
        for (String key : List.copyOf(properties.keySet())) {
            if (key.contains("secret") || key.contains("password")) {
                environment.put(key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_"), properties.remove(key));
            }
        }
        if (users != null) {
            environment.put(JAAS_VARIABLE, users.jaasConfig(KafkaUsers.principalOf(service)));
        }
        return new ServiceSettings(Map.copyOf(properties), Map.copyOf(environment));
    }

    /** These settings with {@code more} configuration keys (nothing secret: they go on the command line). */
    ServiceSettings with(Map<String, String> more) {
        Map<String, String> merged = new LinkedHashMap<>(properties);
        merged.putAll(more);
        return new ServiceSettings(Map.copyOf(merged), environment);
    }
}
