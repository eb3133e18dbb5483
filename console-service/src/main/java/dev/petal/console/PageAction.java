package dev.petal.console;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names the page action an endpoint of {@link ConsoleResource} performs ({@code train}, {@code promote}, ...). The
 * endpoint's {@code @RolesAllowed} is the one definition of who may do it: {@link Callers#abilities} reads it to tell
 * the pages which actions to offer, so a page never offers what the endpoint (and the trainer behind it) refuses.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface PageAction {
    String value();
}
