package dev.petal.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.petal.common.model.Architecture;
import org.junit.jupiter.api.Test;

/** {@code --init-weights torchvision:<arch>} is checked when the recipe is, before any data is read. */
class InitWeightsTest {
    private static Recipe withInitWeights(String arch, String initWeights) {
        Recipe r = Recipe.seedRecipe();
        return r.toBuilder().network(r.network().withArchitecture(Architecture.parse(arch))).initWeights(initWeights).build();
    }

    @Test
    void torchvisionWeightsForAnotherDepthAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> withInitWeights("resnet18", "torchvision:resnet50").validated());
        assertEquals("--init-weights torchvision:resnet50 is for resnet50, but --arch is resnet18", e.getMessage());
    }

    @Test
    void anUnknownTorchvisionArchitectureIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> withInitWeights("resnet18", "torchvision:vgg16").validated());
        assertEquals("unknown architecture 'vgg16'; choose one of " + Architecture.ids(),
                e.getMessage());
    }

    @Test
    void aFilePathIsLeftToTheTrainingJob() {
        assertEquals("weights.pth", withInitWeights("resnet18", "weights.pth").validated().initWeights());
    }
}
