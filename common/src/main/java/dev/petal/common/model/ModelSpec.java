package dev.petal.common.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.petal.common.image.Normalization;
import dev.petal.common.image.Preprocessor;
import java.util.List;

/**
 * Everything that defines a trained model's function: its {@link NetworkSpec} and its labels in output
 * order. A checkpoint's manifest stores it once, as {@code model}:
 * {@code {"architecture": "resnet18", "labels": [...], "imageSize": 224, "stem": "imagenet", "normalization": "imagenet"}}.
 */
@JsonPropertyOrder({"architecture", "labels", "imageSize", "stem", "normalization"})
public record ModelSpec(@JsonIgnore NetworkSpec network, @JsonProperty("labels") List<String> labels) {
    public ModelSpec {
        if (network == null) {
            throw new IllegalArgumentException("a model spec needs a network");
        }
        if (labels == null || labels.isEmpty()) {
            throw new IllegalArgumentException("a model needs at least one label");
        }
        labels = List.copyOf(labels);
    }

    public ModelSpec(Architecture architecture, List<String> labels, int imageSize, Stem stem, Normalization normalization) {
        this(new NetworkSpec(architecture, imageSize, stem, normalization), labels);
    }

    @JsonCreator
    static ModelSpec fromJson(@JsonProperty("architecture") Architecture architecture, @JsonProperty("labels") List<String> labels,
            @JsonProperty("imageSize") int imageSize, @JsonProperty("stem") Stem stem,
            @JsonProperty("normalization") Normalization normalization) {
        return new ModelSpec(architecture, labels, imageSize, stem, normalization);
    }

    /** torchvision's defaults: the ImageNet stem and normalisation. */
    public static ModelSpec of(Architecture architecture, List<String> labels, int imageSize) {
        return NetworkSpec.of(architecture, imageSize).withLabels(labels);
    }

    @JsonProperty("architecture")
    public Architecture architecture() {
        return network.architecture();
    }

    @JsonProperty("imageSize")
    public int imageSize() {
        return network.imageSize();
    }

    @JsonProperty("stem")
    public Stem stem() {
        return network.stem();
    }

    @JsonProperty("normalization")
    public Normalization normalization() {
        return network.normalization();
    }

    @JsonIgnore
    public int numClasses() {
        return labels.size();
    }

    /** The network's layers for this spec's input size. */
    public LayerPlan plan() {
        return LayerPlan.of(architecture(), stem(), labels.size(), imageSize());
    }

    public Preprocessor preprocessor() {
        return new Preprocessor(imageSize(), normalization());
    }

    /** This network and labels at another input size: the same weights, another plan and preprocessing. */
    public ModelSpec withImageSize(int size) {
        return new ModelSpec(network.withImageSize(size), labels);
    }

    public ModelSpec withLabels(List<String> newLabels) {
        return new ModelSpec(network, newLabels);
    }
}
