package dev.petal.localstack;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5: injects the JVM-wide {@link LocalStack#shared()} stack into test constructors,
 * {@code @BeforeAll}/{@code @BeforeEach} methods and test methods that declare a
 * {@link LocalStack} parameter.
 *
 * <pre>{@code
 * @ExtendWith(LocalStackExtension.class)
 * class MyTest {
 *     @Test
 *     void works(LocalStack stack) { ... stack.bootstrapServers() ... }
 * }
 * }</pre>
 */
public final class LocalStackExtension implements ParameterResolver {

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalStack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return LocalStack.shared();
    }
}
