package dev.petal.common.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.sun.management.ThreadMXBean;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.Normalization;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

class OnnxGraphTest {
    /**
     * Writing a graph allocates the model's bytes once and each weight's floats once (read out of libtorch), about twice
     * the model's size: a serving JVM writes one on every hot reload, and what it allocates stays in the old generation
     * until a full collection. Encoding nested messages whole and embedding their bytes allocated eleven times the size.
     */
    @Test
    void writingAGraphAllocatesAboutTwiceTheModelsSize() {
        PyTorchEngine.get();
        ModelSpec spec = new ModelSpec(Architecture.RESNET18, List.of("a", "b", "c"), 32, Stem.IMAGENET, Normalization.IMAGENET);
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (NDManager manager = NDManager.newBaseManager();
             ModelParameters params = ModelParameters.initialised(spec.plan(), manager, false)) {
            OnnxGraph.of(params); // loads the classes and warms the folding once
            long before = threads.getCurrentThreadAllocatedBytes();
            byte[] graph = OnnxGraph.of(params);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(graph.length > 44_000_000, "ResNet-18's 11.2 million weights as float32: " + graph.length + " bytes");
            assertTrue(allocated < 2.5 * graph.length, "allocated " + allocated + " bytes for a graph of " + graph.length);
        }
    }
}
