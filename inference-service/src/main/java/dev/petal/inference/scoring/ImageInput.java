package dev.petal.inference.scoring;

/** An input's image bytes, fetched on demand (a claim-check is read on a decode thread, not the poll loop). */
@FunctionalInterface
public interface ImageInput {
    /** The encoded image; throws {@link RejectedInputException} when they cannot be had. */
    byte[] bytes();

    static ImageInput of(byte[] bytes) {
        return () -> bytes;
    }

    /** An input that could not be fetched. */
    final class RejectedInputException extends RuntimeException {
        private final transient Rejection rejection;

        public RejectedInputException(Rejection rejection) {
            super(rejection.errorClass() + ": " + rejection.reason());
            this.rejection = rejection;
        }

        public Rejection rejection() {
            return rejection;
        }
    }
}
