package dev.petal.common.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class InputStagingTest {
    @Test
    void uploadsTheValuesAndGrowsForALargerBatch() {
        PyTorchEngine.get();
        InputStaging staging = new InputStaging();
        try (NDManager manager = NDManager.newBaseManager()) {
            float[] small = {1, 2, 3, 4, 5, 6};
            try (NDArray x = staging.upload(manager, small, new Shape(2, 3))) {
                assertArrayEquals(small, x.toFloatArray());
            }
            float[] large = new float[24];
            for (int i = 0; i < large.length; i++) {
                large[i] = i * 0.5f;
            }
            try (NDArray x = staging.upload(manager, large, new Shape(2, 3, 4))) {
                assertArrayEquals(large, x.toFloatArray());
            }
            // A longer array than the shape needs: only the first shape.size() values go in.
            try (NDArray x = staging.upload(manager, large, new Shape(4))) {
                assertArrayEquals(new float[] {0f, 0.5f, 1f, 1.5f}, x.toFloatArray());
            }
            assertThrows(IllegalArgumentException.class, () -> staging.upload(manager, small, new Shape(7)));
        }
    }

    @Test
    void aCopySplitIntoPartsPutsEveryValueInPlace() {
        PyTorchEngine.get();
        // 7 parts over a length they do not divide: the last slice is short.
        InputStaging staging = new InputStaging(7);
        float[] values = new float[3 * 224 * 224 + 5];
        for (int i = 0; i < values.length; i++) {
            values[i] = i % 1000 - 500.25f;
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            staging.upload(manager, new float[values.length], new Shape(values.length)).close(); // sizes the buffer
        }
        staging.copy(values, values.length, 7);
        float[] staged = new float[values.length];
        staging.staged().get(staged);
        assertArrayEquals(values, staged);
    }

    @Test
    void repeatedUploadsDoNotPileUpDirectMemory() {
        PyTorchEngine.get();
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow();
        InputStaging staging = new InputStaging();
        float[] image = new float[3 * 224 * 224];
        long imageBytes = image.length * 4L;
        try (NDManager manager = NDManager.newBaseManager()) {
            staging.upload(manager, image, new Shape(1, 3, 224, 224)).close();
            long before = direct.getMemoryUsed();
            for (int i = 0; i < 100; i++) {
                image[i] = i;
                try (NDManager step = manager.newSubManager(); NDArray x = staging.upload(step, image, new Shape(1, 3, 224, 224))) {
                    assertTrue(x.getFloat(0, 0, 0, i) == i);
                }
            }
            // DJL's create(float[]) would have added 100 x 602 KB here until a garbage collection.
            long grown = direct.getMemoryUsed() - before;
            assertTrue(grown < imageBytes, "direct memory grew by " + grown + " bytes over 100 uploads");
        }
    }
}
