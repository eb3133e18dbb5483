package dev.petal.service.messaging;

import dev.petal.common.records.ErrorReason;

/**
 * Why a consumed record is dead-lettered: the contract's {@code error-class} code and a one-line reason. A channel's
 * processing nacks a record with one of these; any other failure is dead-lettered as {@code internal-error}.
 */
public final class DeadLetterReason extends RuntimeException {
    public static final String INTERNAL = "internal-error";

    private final String errorClass;

    public DeadLetterReason(String errorClass, String reason) {
        super(ErrorReason.oneLine(reason), null, false, false);
        this.errorClass = errorClass == null || errorClass.isBlank() ? INTERNAL : errorClass;
    }

    public String errorClass() {
        return errorClass;
    }

    /** {@code failure} itself when it is a reason, else {@code internal-error} with what failed. */
    public static DeadLetterReason of(Throwable failure) {
        return failure instanceof DeadLetterReason reason ? reason : new DeadLetterReason(INTERNAL, String.valueOf(failure));
    }
}
