package dev.petal.inference.scoring;

import io.quarkus.logging.LoggingFilter;
import java.util.logging.Filter;
import java.util.logging.LogRecord;

/**
 * Keeps the connector's line per failed send of the {@code outputs} channel out of the log ("SRMSG18206: Unable to
 * write to Kafka", "SRMSG18212: ... nacking message"): one per record and per retry, dozens a second while the broker
 * refuses the outputs. {@link StallWatch} says instead, once per {@code petal.inference.stall-timeout}, what waits and
 * the last error. Every other channel's lines, and every other line, pass.
 */
@LoggingFilter(name = OutputRetryLogFilter.NAME)
public final class OutputRetryLogFilter implements Filter {
    public static final String NAME = "petal-output-retries";
    private static final String CHANNEL = "outputs";

    @Override
    public boolean isLoggable(LogRecord record) {
        String message = record.getMessage();
        if (message == null) {
            return true;
        }
        Object[] params = record.getParameters();
        if (message.startsWith("SRMSG18206")) {
            return !(params != null && params.length > 0 && CHANNEL.equals(params[0]));
        }
        if (message.startsWith("SRMSG18212")) {
            return !(params != null && params.length > 1 && CHANNEL.equals(params[1]));
        }
        return true;
    }
}
