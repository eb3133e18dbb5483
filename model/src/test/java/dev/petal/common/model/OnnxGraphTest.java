package dev.petal.common.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.sun.management.ThreadMXBean;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.Normalization;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class OnnxGraphTest {
    /**
     * Writing a graph allocates next to nothing on the heap: the model's bytes go to native memory, the weights copied
     * there from libtorch's. A serving JVM writes one on every hot reload, and what a load allocates on the heap stays in
     * the old generation until a full collection. Writing into a heap array allocated about twice the model's size (and
     * encoding nested messages whole, eleven times).
     */
    @Test
    void writingAGraphAllocatesAlmostNothingOnTheHeap() throws Exception {
        PyTorchEngine.get();
        ModelSpec spec = new ModelSpec(Architecture.RESNET18, List.of("a", "b", "c"), 32, Stem.IMAGENET, Normalization.IMAGENET);
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (NDManager manager = NDManager.newBaseManager();
             ModelParameters params = ModelParameters.initialised(spec.plan(), manager, false)) {
            OnnxGraph.of(params, ByteBuffer::remaining); // loads the classes and warms the folding once
            long before = threads.getCurrentThreadAllocatedBytes();
            int size = OnnxGraph.of(params, ByteBuffer::remaining);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(size > 44_000_000, "ResNet-18's 11.2 million weights as float32: " + size + " bytes");
            assertTrue(allocated < 0.02 * size, "allocated " + allocated + " bytes on the heap for a graph of " + size);
        }
    }
}
