package dev.petal.localstack.auth;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Quarkus tests: {@code @QuarkusTestResource(JwtTestResource.class)} makes the service under test verify
 * tokens with this JVM's test key pair ({@link TestTokens}), issuer {@code petal-local} and audience
 * {@code petal}; {@link TestTokens} mints them. The key pair is made in the test JVM, never committed.
 */
public class JwtTestResource implements QuarkusTestResourceLifecycleManager {
    @Override
    public Map<String, String> start() {
        return Map.of(
                "mp.jwt.verify.publickey.location", TestTokens.publicKeyFile().toString(),
                "mp.jwt.verify.issuer", TokenIssuer.LOCAL_ISSUER,
                "mp.jwt.verify.audiences", TokenIssuer.LOCAL_AUDIENCE);
    }

    @Override
    public void stop() {
        // The key pair lives as long as the JVM.
    }
}
