package dev.petal.common.checkpoint;

import dev.petal.common.image.Normalization;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ResNetConfig;
import java.util.List;

/**
 * Everything needed to rebuild a trained model and feed it the way it was trained: the network
 * shape, the labels in output order, and the preprocessing.
 */
public record ModelSpec(
        String architecture,
        List<String> labels,
        int imageSize,
        String normalization,
        boolean smallStem,
        boolean zeroInitResidual) {

    public ModelSpec {
        if (labels == null || labels.isEmpty()) {
            throw new IllegalArgumentException("a model needs at least one label");
        }
        labels = List.copyOf(labels);
        Architecture.parse(architecture);
        Normalization.parse(normalization);
    }

    public ResNetConfig resNetConfig() {
        return new ResNetConfig(Architecture.parse(architecture), labels.size(), smallStem, zeroInitResidual);
    }

    public Preprocessor preprocessor() {
        return new Preprocessor(imageSize, Normalization.parse(normalization));
    }
}
