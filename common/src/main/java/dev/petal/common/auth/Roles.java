package dev.petal.common.auth;

import java.util.List;

/**
 * The roles a bearer token's {@code groups} claim grants on the services' HTTP APIs (docs/security.md,
 * "API authentication"). Each API names the roles it allows; {@link #ADMIN} is allowed everywhere.
 */
public final class Roles {
    /** Inference: {@code POST /predict}, {@code GET /model}. */
    public static final String SCORER = "scorer";
    /** Ingest: {@code POST /images}. */
    public static final String INGESTER = "ingester";
    /** Trainer: {@code POST /train}, {@code GET /train}. */
    public static final String TRAINER = "trainer";
    /** Every API, and any that changes which model serves. */
    public static final String ADMIN = "admin";

    public static final List<String> ALL = List.of(SCORER, INGESTER, TRAINER, ADMIN);

    private Roles() {}
}
