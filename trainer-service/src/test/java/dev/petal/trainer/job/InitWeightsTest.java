package dev.petal.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@code --init-weights torchvision:<arch>} is checked when the recipe is, before any data is read. */
class InitWeightsTest {
    private static Recipe withInitWeights(String arch, String initWeights) {
        Recipe r = Recipe.seedRecipe();
        return new Recipe(r.modelName(), arch, r.epochs(), r.batchSize(), r.lr(), r.weightDecay(), r.warmupIters(),
                r.imageSize(), r.augment(), r.seed(), r.device(), r.smallStem(), r.zeroInitResidual(), r.normalize(),
                r.resume(), initWeights, r.stopAfterEpochs(), r.checkpointIntervalSeconds(), r.decodeThreads(),
                r.prefetchBatches(), r.cacheMegabytes(), r.dataset(), r.warmStart(), r.precision());
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
        assertEquals("unknown architecture 'vgg16'; choose one of [resnet18, resnet34, resnet50, resnet101, resnet152]",
                e.getMessage());
    }

    @Test
    void aFilePathIsLeftToTheTrainingJob() {
        assertEquals("weights.pth", withInitWeights("resnet18", "weights.pth").validated().initWeights());
    }
}
