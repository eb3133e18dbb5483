package dev.petal.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The plan of each architecture against torchvision's published facts (TorchvisionParityTest checks every name and shape). */
class LayerPlanTest {

    /** torchvision's documented parameter counts at 1,000 classes (its model pages, "num_params"). */
    @ParameterizedTest
    @CsvSource({
        "resnet18, 11689512",
        "resnet34, 21797672",
        "resnet50, 25557032",
        "resnet101, 44549160",
        "resnet152, 60192808",
        "resnext50_32x4d, 25028904",
        "wide_resnet50_2, 68883240"
    })
    void parameterCountsEqualTorchvision(String arch, long expected) {
        assertEquals(expected, LayerPlan.of(Architecture.parse(arch), Stem.IMAGENET, 1000, 224).trainableParameterCount());
    }

    /** The tutorial's ResNet-18 at 224 px: 112 after conv1, 56 after the pool, halving each later stage, 512 x 7 x 7 at the end. */
    @Test
    void resnet18ShapesMatchTheTutorial() {
        Map<String, long[]> shapes = LayerPlan.of(Architecture.RESNET18, Stem.IMAGENET, 5, 224).layerShapes(1);
        assertArrayEquals(new long[] {1, 64, 112, 112}, shapes.get("conv1"));
        assertArrayEquals(new long[] {1, 64, 56, 56}, shapes.get("stem"));
        assertArrayEquals(new long[] {1, 64, 56, 56}, shapes.get("layer1"));
        assertArrayEquals(new long[] {1, 128, 28, 28}, shapes.get("layer2"));
        assertArrayEquals(new long[] {1, 256, 14, 14}, shapes.get("layer3"));
        assertArrayEquals(new long[] {1, 512, 7, 7}, shapes.get("layer4"));
        assertArrayEquals(new long[] {1, 5}, shapes.get("logits"));
    }

    /** The tutorial's bug: a Bottleneck's downsample BatchNorm has planes x 4 channels, not planes. */
    @Test
    void bottleneckProjectionNormHasFourTimesPlanesChannels() {
        LayerPlan plan = LayerPlan.of(Architecture.RESNET50, Stem.IMAGENET, 1000, 224);
        LayerPlan.Block first = plan.blocks().get(0);
        assertEquals(256, first.shortcut().conv().outChannels());
        assertEquals("layer1.0.downsample.1", first.shortcut().norm());
        assertNull(plan.blocks().get(1).shortcut(), "same shape: identity shortcut");
        assertEquals(2048, plan.head().inFeatures());
    }

    /** ResNeXt-50 (32x4d): 32 groups of 4 channels per 64 planes in the 3x3; Wide ResNet-50-2: twice the Bottleneck's width. */
    @Test
    void resnextGroupsAndWideResnetWidthFollowTorchvision() {
        LayerPlan.Convolution resnext = LayerPlan.of(Architecture.RESNEXT50_32X4D, Stem.IMAGENET, 10, 224).blocks().get(0).main().get(1).conv();
        assertEquals(128, resnext.inChannels());
        assertEquals(32, resnext.groups());
        LayerPlan.Convolution wide = LayerPlan.of(Architecture.WIDE_RESNET50_2, Stem.IMAGENET, 10, 224).blocks().get(0).main().get(1).conv();
        assertEquals(128, wide.inChannels());
        assertEquals(1, wide.groups());
    }

    @Test
    void smallImageStemKeepsResolution() {
        Map<String, long[]> shapes = LayerPlan.of(Architecture.RESNET18, Stem.SMALL, 4, 32).layerShapes(2);
        assertArrayEquals(new long[] {2, 64, 32, 32}, shapes.get("stem"));
        assertArrayEquals(new long[] {2, 512, 4, 4}, shapes.get("layer4"));
    }

    @Test
    void distinctShapesCoverEveryConvolution() {
        LayerPlan plan = LayerPlan.of(Architecture.RESNET18, Stem.IMAGENET, 5, 224);
        assertEquals(20, plan.convUnits().size());
        assertEquals(11, plan.convolutionShapes().size());
        assertTrue(plan.convolutionShapes().contains(new LayerPlan.Shape(256, 512, 1, 2, 0, 1, 14)));
    }

    @Test
    void architectureNamesParseAndRejectClearly() {
        assertEquals(Architecture.RESNET50, Architecture.parse("ResNet-50"));
        assertEquals(Architecture.RESNET101, Architecture.parse("101"));
        assertEquals(Architecture.RESNEXT50_32X4D, Architecture.parse("resnext50_32x4d"));
        assertEquals(Architecture.WIDE_RESNET50_2, Architecture.parse("Wide_ResNet50_2"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Architecture.parse("resnet19"));
        assertTrue(e.getMessage().contains("resnet18") && e.getMessage().contains("resnext50_32x4d"), e.getMessage());
    }
}
