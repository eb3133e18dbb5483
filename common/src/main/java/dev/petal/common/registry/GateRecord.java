package dev.petal.common.registry;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What the promotion gate decided about a candidate version ({@code models/<name>/gate/<version>.json}): its accuracy
 * and the champion's on the same held-out images, and whether it was promoted.
 *
 * @param candidate        the candidate's accuracy on the run's valid split (0-1), null when not measured
 * @param champion         the champion's accuracy on the same images, null when there was no champion or no comparison
 * @param championVersion  the champion it was compared with, null when there was none
 * @param decision         {@link #PROMOTED}, {@link #KEPT_OUT} or {@link #MANUAL}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record GateRecord(Double candidate, Double champion, String championVersion, String decision, String reason, String at) {
    public static final String PROMOTED = "promoted";
    public static final String KEPT_OUT = "kept-out";
    public static final String MANUAL = "manual";
}
