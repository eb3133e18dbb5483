package dev.petal.inference;

import io.smallrye.config.ConfigSourceInterceptor;
import io.smallrye.config.ConfigSourceInterceptorContext;
import io.smallrye.config.ConfigValue;

/**
 * A shadow replica ({@code petal.inference.mode=shadow}) scores under a consumer group of its own, so that it sees every
 * input beside the serving replicas instead of taking partitions from them: in shadow mode {@code petal.inference.group}
 * (and the {@code images} channel's {@code group.id}, which names it) reads {@code <group>-shadow}.
 */
public class ShadowGroup implements ConfigSourceInterceptor {
    static final String SUFFIX = "-shadow";

    @Override
    public ConfigValue getValue(ConfigSourceInterceptorContext context, String name) {
        ConfigValue value = context.proceed(name);
        if (value == null || value.getValue() == null
                || !("petal.inference.group".equals(name) || "mp.messaging.incoming.images.group.id".equals(name))) {
            return value;
        }
        ConfigValue mode = context.proceed("petal.inference.mode");
        if (mode == null || !"shadow".equals(mode.getValue()) || value.getValue().endsWith(SUFFIX)) {
            return value;
        }
        return value.withValue(value.getValue() + SUFFIX);
    }
}
