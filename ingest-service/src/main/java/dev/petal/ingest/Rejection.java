package dev.petal.ingest;

import dev.petal.common.image.RejectedImageException;

/** Why a file was not published: a stable code (the dlq's error-class) and a one-line reason. */
public record Rejection(String errorClass, String reason) {
    /** The file could not be read from disk. */
    public static final String UNREADABLE = "unreadable";
    /** The same bytes appear under two labels. */
    public static final String LABEL_CONFLICT = "label-conflict";
    /** The file changed between hashing and publishing. */
    public static final String CHANGED = "changed-during-ingest";

    public static Rejection of(RejectedImageException e) {
        return new Rejection(e.errorClass(), e.reason());
    }
}
