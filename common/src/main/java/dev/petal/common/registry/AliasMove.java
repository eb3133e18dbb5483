package dev.petal.common.registry;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One move of an alias, as kept in its history ({@code models/<name>/alias-history/<alias>/<seq>.json}) and announced on
 * {@code petal.models}: the alias went from version {@code from} ({@code null} when it pointed nowhere) to {@code to}.
 *
 * @param seq    the move's number in its alias's history, 1 for the first: the compare-and-set counter
 * @param kind   {@code promote} (a person or the gate), {@code rollback}, {@code canary-rollback}, {@code canary-promote}
 * @param actor  who moved it: {@code trainer} (the gate), {@code cli:<user>}, the bearer token's subject, {@code inference}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record AliasMove(String name, String alias, String from, String to, String kind, String reason, String actor, String at,
                        long seq) {
    public static final String PROMOTE = "promote";
    public static final String ROLLBACK = "rollback";
    public static final String CANARY_ROLLBACK = "canary-rollback";
    public static final String CANARY_PROMOTE = "canary-promote";
}
