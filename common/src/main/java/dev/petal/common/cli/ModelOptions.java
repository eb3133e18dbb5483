package dev.petal.common.cli;

import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.NetworkSpec;
import dev.petal.common.model.Stem;
import picocli.CommandLine.Option;

/**
 * The options that describe a network, declared once for every command that takes them
 * ({@code @Mixin ModelOptions model}). Each is null when not given, so a command can fall back to a
 * preset or a checkpoint's value; {@link #network(NetworkSpec)} resolves them.
 */
public final class ModelOptions {
    @Option(names = "--arch", paramLabel = "ARCH", converter = ParsedBy.ArchitectureName.class,
            description = "resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d or wide_resnet50_2 (default: resnet18).")
    Architecture arch;

    @Option(names = "--image-size", paramLabel = "PIXELS", description = "Input height and width (default: 224).")
    Integer imageSize;

    @Option(names = "--stem", paramLabel = "STEM", converter = ParsedBy.StemName.class,
            description = "imagenet (7x7/2 convolution and a max-pool) or small (3x3/1, no pool: for 32-64 px images) (default: imagenet).")
    Stem stem;

    @Option(names = "--normalization", paramLabel = "NORM", converter = ParsedBy.NormalizationName.class,
            description = "imagenet (torchvision's mean and std) or none (pixels in [0,1], as the tutorial) (default: imagenet).")
    Normalization normalization;

    /** The spelling before 0.2; kept hidden for one release. */
    @Option(names = "--small-stem", hidden = true)
    void smallStem(boolean small) {
        if (small) {
            stem = Stem.SMALL;
        }
    }

    /** The spelling before 0.2; kept hidden for one release. */
    @Option(names = "--normalize", hidden = true, converter = ParsedBy.NormalizationName.class)
    void normalize(Normalization value) {
        normalization = value;
    }

    /** The network these options describe, each option not given taken from {@code defaults}. */
    public NetworkSpec network(NetworkSpec defaults) {
        return new NetworkSpec(arch != null ? arch : defaults.architecture(), imageSize != null ? imageSize : defaults.imageSize(),
                stem != null ? stem : defaults.stem(), normalization != null ? normalization : defaults.normalization());
    }

    /** The network with torchvision's defaults (ResNet-18, 224 px, ImageNet stem and normalisation) where not given. */
    public NetworkSpec network() {
        return network(NetworkSpec.of(Architecture.RESNET18, 224));
    }

    /** Whether any model option was given. */
    public boolean given() {
        return arch != null || imageSize != null || stem != null || normalization != null;
    }
}
