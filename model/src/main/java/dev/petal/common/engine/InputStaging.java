package dev.petal.common.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;

/**
 * Hands float input to libtorch through one reusable direct buffer.
 *
 * <p>DJL's {@code NDManager.create(float[])} copies into a new direct buffer per call, and on the CPU the
 * tensor aliases it, so its memory is freed only when a garbage collection finds the buffer. A loop that
 * makes little heap garbage (the model benchmark; a trainer between image decodes) piled these up, a
 * buffer per image, until resident memory was several times the model's. Here the tensor
 * aliases this object's buffer instead: close it before the next {@link #upload}.
 *
 * <p>For a GPU the copy into the buffer is split over the CPU's cores: there it is the step's largest
 * host cost (one core copies a batch of 32 images more slowly than the GPU scores it; docs/performance.md),
 * while on a CPU those cores belong to libtorch and the decoders.
 */
public final class InputStaging implements AutoCloseable {
    /** Below this many bytes a part, splitting the copy costs more than it saves. */
    private static final int MIN_PART_BYTES = 1 << 20;

    private final int maxParts;
    private ByteBuffer buffer = ByteBuffer.allocateDirect(0);

    public InputStaging() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** At most {@code maxParts} threads copy an upload to a GPU. */
    InputStaging(int maxParts) {
        this.maxParts = Math.max(1, maxParts);
    }

    /** A float32 tensor of {@code shape} over the first {@code shape.size()} values; valid until the next upload. */
    public NDArray upload(NDManager manager, float[] values, Shape shape) {
        int length = Math.toIntExact(shape.size());
        if (values.length < length) {
            throw new IllegalArgumentException("need " + length + " floats for " + shape + ", got " + values.length);
        }
        int bytes = length * Float.BYTES;
        buffer = DirectBuffers.atLeast(buffer, bytes);
        buffer.limit(bytes);
        int parts = manager.getDevice().isGpu() ? Math.min(maxParts, bytes / MIN_PART_BYTES) : 1;
        copy(values, length, parts);
        return manager.create(buffer, shape, DataType.FLOAT32);
    }

    /** The first {@code length} values into the buffer, in {@code parts} slices copied side by side. */
    void copy(float[] values, int length, int parts) {
        if (parts <= 1) {
            buffer.asFloatBuffer().put(values, 0, length);
            return;
        }
        ByteBuffer target = buffer;
        int slice = (length + parts - 1) / parts;
        IntStream.range(0, parts).parallel().forEach(part -> {
            int from = part * slice;
            int to = Math.min(length, from + slice);
            if (from < to) {
                target.asFloatBuffer().put(from, values, from, to - from);
            }
        });
    }

    /** Hands the buffer on ({@link DirectBuffers}); the last upload's tensor must be closed already. */
    @Override
    public void close() {
        DirectBuffers.give(buffer);
        buffer = ByteBuffer.allocateDirect(0);
    }

    /** What the buffer holds now, for tests. */
    FloatBuffer staged() {
        return buffer.asFloatBuffer();
    }
}
