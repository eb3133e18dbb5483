package dev.petal.common.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ResNet;
import dev.petal.common.model.ResNetConfig;
import dev.petal.common.training.ModelSession;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelWeightsTest {

    @Test
    void weightsStreamedFromAFileRestoreEveryParameterBitForBit(@TempDir Path dir) throws Exception {
        try (ModelSession source = TorchvisionWeightsTest.session(Architecture.RESNET18, 4, 1);
                ModelSession target = TorchvisionWeightsTest.session(Architecture.RESNET18, 4, 2)) {
            byte[] bytes = ModelWeights.toBytes(source.net());
            Path file = dir.resolve("weights.params");
            ModelWeights.save(source.net(), file);
            assertArrayEquals(bytes, Files.readAllBytes(file), "the file and the array hold the same bytes");

            assertFalse(sameParameters(source, target), "different seeds start apart");
            try (var in = Files.newInputStream(file)) {
                ModelWeights.load(target.net(), manager(target), in);
            }
            assertTrue(sameParameters(source, target), "every parameter and running statistic, bit for bit");
            assertArrayEquals(bytes, ModelWeights.toBytes(target.net()), "and it writes back the same bytes");
        }
    }

    @Test
    void truncatedOrForeignBytesAreAnIntegrityError() {
        byte[] bytes;
        try (ModelSession source = TorchvisionWeightsTest.session(Architecture.RESNET18, 4, 1)) {
            bytes = ModelWeights.toBytes(source.net());
        }
        byte[] truncated = Arrays.copyOf(bytes, bytes.length - 100);
        byte[] foreign = new byte[4096];
        Arrays.fill(foreign, (byte) 7);
        for (byte[] bad : new byte[][] {truncated, foreign}) {
            // A failed load leaves the block without weights; its owner discards it, as here.
            try (NDManager manager = PyTorchEngine.get().newBaseManager()) {
                ResNet net = new ResNet(new ResNetConfig(Architecture.RESNET18, 4, true, false));
                net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 32, 32));
                assertThrows(CheckpointIntegrityException.class,
                        () -> ModelWeights.load(net, manager, new ByteArrayInputStream(bad)));
            }
        }
    }

    private static NDManager manager(ModelSession session) {
        return session.net().getParameters().get(0).getValue().getArray().getManager();
    }

    private static boolean sameParameters(ModelSession a, ModelSession b) {
        var left = a.net().getParameters();
        var right = b.net().getParameters();
        assertEquals(left.size(), right.size());
        for (int i = 0; i < left.size(); i++) {
            Pair<String, Parameter> l = left.get(i);
            Pair<String, Parameter> r = right.get(i);
            assertEquals(l.getKey(), r.getKey());
            if (!Arrays.equals(l.getValue().getArray().toFloatArray(), r.getValue().getArray().toFloatArray())) {
                return false;
            }
        }
        return true;
    }
}
