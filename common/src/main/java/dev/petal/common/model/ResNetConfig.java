package dev.petal.common.model;

/**
 * What defines a ResNet instance.
 *
 * @param architecture depth and block type
 * @param numClasses size of the classification head
 * @param smallImageStem 3x3 stride-1 stem without max-pool, for 32-64 px inputs
 * @param zeroInitResidual start each block's last BatchNorm gamma at zero
 */
public record ResNetConfig(
        Architecture architecture, int numClasses, boolean smallImageStem, boolean zeroInitResidual) {

    public ResNetConfig {
        if (architecture == null) {
            throw new IllegalArgumentException("architecture is required");
        }
        if (numClasses < 1) {
            throw new IllegalArgumentException("numClasses must be at least 1, was " + numClasses);
        }
    }

    /** torchvision's defaults: ImageNet stem, no zero-init. */
    public static ResNetConfig of(Architecture architecture, int numClasses) {
        return new ResNetConfig(architecture, numClasses, false, false);
    }

    /** Below this input size the ImageNet stem leaves too few pixels; the small stem is advised. */
    public static final int SMALL_STEM_ADVISED_BELOW = 96;
}
