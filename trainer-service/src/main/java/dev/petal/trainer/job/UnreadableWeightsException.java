package dev.petal.trainer.job;

/**
 * Initial weights that could not be read or do not fit the network. {@link #getMessage()} says why in detail,
 * for the command line and the log; {@link #summary()} names only the reference, for answers to API callers,
 * since the detail quotes the file (tensor names, header fields).
 */
public final class UnreadableWeightsException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String summary;

    UnreadableWeightsException(String location, String detail, Throwable cause) {
        super("--init-weights " + location + ": " + detail, cause);
        this.summary = "--init-weights " + location + " could not be used as initial weights (the trainer's log says why)";
    }

    public String summary() {
        return summary;
    }
}
