package dev.petal.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.petal.common.model.Precision;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecipeTest {
    @Test
    void prefetchIsLeftToTheDeviceUnlessGiven() {
        Recipe auto = Recipe.seedRecipe();
        assertEquals(Recipe.PREFETCH_AUTO, auto.prefetchBatches());
        assertEquals(0, auto.prefetchBatchesOn(Device.cpu()), "a CPU decodes between steps");
        assertEquals(4, auto.prefetchBatchesOn(Device.gpu()), "a GPU's host decodes ahead");
        Recipe two = withPrefetch(auto, 2).validated();
        assertEquals(2, two.prefetchBatchesOn(Device.cpu()));
        assertEquals(2, two.prefetchBatchesOn(Device.gpu()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> withPrefetch(auto, -2).validated());
        assertTrue(e.getMessage().contains("--prefetch-batches"), e.getMessage());
    }

    @Test
    void theFlowersPresetTrainsSmallerThanItServesAndAResumeKeepsIt() {
        Recipe flowers = Recipe.preset("flowers-cpu").build().validated();
        assertEquals(160, flowers.imageSize());
        assertEquals(128, flowers.trainingImageSize());
        Recipe seed = Recipe.seedRecipe();
        assertEquals(seed.imageSize(), seed.trainingImageSize(), "0 trains at the serving size");
        assertEquals(128, seed.resumedFrom(flowers.toManifest()).trainingImageSize());
        Map<String, Object> older = new java.util.HashMap<>(seed.toManifest());
        older.remove("trainImageSize"); // a checkpoint from before the field
        assertEquals(seed.imageSize(), seed.resumedFrom(older).trainingImageSize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> seed.toBuilder().trainImageSize(8).build().validated());
        assertTrue(e.getMessage().contains("--train-image-size"), e.getMessage());
    }

    @Test
    void theFlowersPresetValidatesItsLastTenEpochsAndTheSeedRecipeEveryEpoch() {
        Recipe flowers = Recipe.preset("flowers-cpu").build().validated();
        assertEquals(55, flowers.validateFromEpoch());
        assertEquals(64, flowers.epochs());
        Recipe seed = Recipe.seedRecipe();
        assertEquals(1, seed.validateFromEpoch());
        assertEquals(55, seed.resumedFrom(flowers.toManifest()).validateFromEpoch(), "a resume keeps it");
        Map<String, Object> older = new java.util.HashMap<>(flowers.toManifest());
        older.remove("validateFromEpoch"); // a checkpoint from before the field validated every epoch
        assertEquals(1, seed.resumedFrom(older).validateFromEpoch());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> seed.toBuilder().validateFromEpoch(0).build().validated());
        assertTrue(e.getMessage().contains("--validate-from-epoch"), e.getMessage());
    }

    @Test
    void theFlowersPresetTrainsItsEarlyEpochsSmallerAndAResumeKeepsThat() {
        Recipe flowers = Recipe.preset("flowers-cpu").build().validated();
        assertEquals(96, flowers.trainingImageSize(1));
        assertEquals(96, flowers.trainingImageSize(32));
        assertEquals(128, flowers.trainingImageSize(33));
        assertEquals(128, flowers.trainingImageSize(64));
        Recipe seed = Recipe.seedRecipe();
        Recipe resumed = seed.resumedFrom(flowers.toManifest());
        assertEquals(96, resumed.trainingImageSize(32), "a resume keeps the early size");
        assertEquals(128, resumed.trainingImageSize(33));
        Map<String, Object> older = new java.util.HashMap<>(flowers.toManifest());
        older.remove("earlyImageSize"); // a checkpoint from before the fields trained every epoch at one size
        older.remove("earlyEpochs");
        assertEquals(128, seed.resumedFrom(older).trainingImageSize(1));
        assertEquals(seed.imageSize(), seed.trainingImageSize(1), "off in the seed recipe");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> flowers.toBuilder().earlyEpochs(64).build().validated());
        assertTrue(e.getMessage().contains("--early-epochs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> flowers.toBuilder().earlyImageSize(8).build().validated());
        assertTrue(e.getMessage().contains("--early-image-size"), e.getMessage());
    }

    @Test
    void recalibrationIsOffUnlessAskedAndBounded() {
        assertEquals(0, Recipe.seedRecipe().recalibrationImages());
        assertEquals(0, Recipe.preset("flowers-cpu").build().recalibrationImages());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Recipe.seedRecipe().toBuilder().recalibrationImages(-1).build().validated());
        assertTrue(e.getMessage().contains("--recalibration-images"), e.getMessage());
    }

    @Test
    void int8ServesButDoesNotTrain() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Recipe.seedRecipe().toBuilder().precision(Precision.INT8).build().validated());
        assertEquals("--precision int8 serves only: train in fp32 or bf16 (every validated checkpoint carries its int8 calibration)",
                e.getMessage());
    }

    private static Recipe withPrefetch(Recipe r, int prefetch) {
        return r.toBuilder().prefetchBatches(prefetch).build();
    }
}
