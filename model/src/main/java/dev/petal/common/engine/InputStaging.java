package dev.petal.common.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Hands float input to libtorch through one reusable direct buffer.
 *
 * <p>DJL's {@code NDManager.create(float[])} copies into a new direct buffer per call, and on the CPU the
 * tensor aliases it, so its memory is freed only when a garbage collection finds the buffer. A loop that
 * makes little heap garbage (the model benchmark; a trainer between image decodes) piled these up, a
 * buffer per image, until resident memory was several times the model's. Here the tensor
 * aliases this object's buffer instead: close it before the next {@link #upload}.
 */
public final class InputStaging {
    private ByteBuffer buffer = ByteBuffer.allocateDirect(0);

    /** A float32 tensor of {@code shape} over the first {@code shape.size()} values; valid until the next upload. */
    public NDArray upload(NDManager manager, float[] values, Shape shape) {
        int length = Math.toIntExact(shape.size());
        if (values.length < length) {
            throw new IllegalArgumentException("need " + length + " floats for " + shape + ", got " + values.length);
        }
        int bytes = length * Float.BYTES;
        if (buffer.capacity() < bytes) {
            buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
        }
        buffer.clear().limit(bytes);
        buffer.asFloatBuffer().put(values, 0, length);
        return manager.create(buffer, shape, DataType.FLOAT32);
    }
}
