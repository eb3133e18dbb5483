package dev.petal.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.petal.common.engine.PyTorchEngine;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class ResNetTest {

    @ParameterizedTest
    @CsvSource({
        "RESNET18, 11689512",
        "RESNET34, 21797672",
        "RESNET50, 25557032",
        "RESNET101, 44549160",
        "RESNET152, 60192808"
    })
    void parameterCountsEqualTorchvision(Architecture arch, long expected) {
        try (NDManager manager = PyTorchEngine.get().newBaseManager()) {
            ResNet net = ResNet.of(arch, 1000);
            net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
            assertEquals(expected, net.trainableParameterCount());
        }
    }

    @Test
    void resnet18ShapesMatchTheTutorial() {
        Map<String, Shape> shapes = ResNet.of(Architecture.RESNET18, 5).layerShapes(new Shape(1, 3, 224, 224));
        assertEquals(new Shape(1, 64, 112, 112), shapes.get("conv1"));
        assertEquals(new Shape(1, 64, 56, 56), shapes.get("stem"));
        assertEquals(new Shape(1, 64, 56, 56), shapes.get("layer1"));
        assertEquals(new Shape(1, 128, 28, 28), shapes.get("layer2"));
        assertEquals(new Shape(1, 256, 14, 14), shapes.get("layer3"));
        assertEquals(new Shape(1, 512, 7, 7), shapes.get("layer4"));
        assertEquals(new Shape(1, 512, 1, 1), shapes.get("avgpool"));
        assertEquals(new Shape(1, 5), shapes.get("logits"));
    }

    @Test
    void resnet50StagesExpandByFour() {
        Map<String, Shape> shapes = ResNet.of(Architecture.RESNET50, 1000).layerShapes(new Shape(2, 3, 224, 224));
        assertEquals(new Shape(2, 256, 56, 56), shapes.get("layer1"));
        assertEquals(new Shape(2, 2048, 7, 7), shapes.get("layer4"));
        assertEquals(new Shape(2, 1000), shapes.get("logits"));
    }

    @Test
    void bottleneckProjectionNormHasFourTimesPlanesChannels() {
        try (NDManager manager = PyTorchEngine.get().newBaseManager()) {
            ResidualBlock block = new ResidualBlock(BlockType.BOTTLENECK, 64, 64, 1, false);
            assertTrue(block.hasProjection(), "64 -> 256 channels needs a projection shortcut");
            block.initialize(manager, DataType.FLOAT32, new Shape(1, 64, 8, 8));
            long shortcutGammas = block.getParameters().stream()
                    .filter(p -> p.getKey().contains("shortcut") && p.getValue().getType() == Parameter.Type.GAMMA)
                    .mapToLong(p -> p.getValue().getShape().size())
                    .sum();
            assertEquals(256, shortcutGammas);
            assertFalse(new ResidualBlock(BlockType.BASIC, 64, 64, 1, false).hasProjection());
        }
    }

    @Test
    void smallImageStemKeepsResolution() {
        ResNet net = new ResNet(new ResNetConfig(Architecture.RESNET18, 4, true, false));
        Map<String, Shape> shapes = net.layerShapes(new Shape(1, 3, 32, 32));
        assertEquals(new Shape(1, 64, 32, 32), shapes.get("stem"));
        assertEquals(new Shape(1, 512, 4, 4), shapes.get("layer4"));
    }

    @Test
    void zeroInitResidualZeroesLastGammaOfEachBlock() {
        try (NDManager manager = PyTorchEngine.get().newBaseManager()) {
            ResNet net = new ResNet(new ResNetConfig(Architecture.RESNET18, 3, true, true));
            net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 16, 16));
            long zeroGammas = 0;
            long gammas = 0;
            for (Pair<String, Parameter> p : net.getParameters()) {
                if (p.getValue().getType() == Parameter.Type.GAMMA) {
                    gammas++;
                    if (p.getValue().getArray().abs().sum().getFloat() == 0f) {
                        zeroGammas++;
                    }
                }
            }
            assertEquals(8, zeroGammas, "one per BasicBlock of ResNet-18");
            assertTrue(gammas > zeroGammas);
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void forwardAndBackwardOnEveryDepth(Architecture arch) {
        try (NDManager manager = PyTorchEngine.get().newBaseManager()) {
            ResNet net = ResNet.of(arch, 3);
            net.initialize(manager, DataType.FLOAT32, new Shape(2, 3, 64, 64));
            for (Pair<String, Parameter> p : net.getParameters()) {
                if (p.getValue().requiresGradient()) {
                    p.getValue().getArray().setRequiresGradient(true);
                }
            }
            NDArray x = manager.randomNormal(new Shape(2, 3, 64, 64));
            try (GradientCollector collector = manager.getEngine().newGradientCollector()) {
                NDArray logits = net.forward(new ParameterStore(manager, false), new NDList(x), true).singletonOrThrow();
                assertEquals(new Shape(2, 3), logits.getShape());
                collector.backward(logits.square().mean());
            }
            NDArray fcGrad = net.getParameters().stream()
                    .filter(p -> p.getKey().contains("fc") && p.getValue().getType() == Parameter.Type.WEIGHT)
                    .findFirst().orElseThrow().getValue().getArray().getGradient();
            assertTrue(fcGrad.abs().sum().getFloat() > 0f, "gradient reaches the head");
            NDArray stemGrad = net.getParameters().get(0).getValue().getArray().getGradient();
            assertTrue(stemGrad.abs().sum().getFloat() > 0f, "gradient reaches the stem");
        }
    }

    @Test
    void architectureNamesParseAndRejectClearly() {
        assertEquals(Architecture.RESNET50, Architecture.parse("ResNet-50"));
        assertEquals(Architecture.RESNET101, Architecture.parse("101"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Architecture.parse("resnet19"));
        assertTrue(e.getMessage().contains("resnet18"));
    }
}
