package dev.petal.common.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The direct buffers that stage a model's input, passed on from a closed model to the next one loaded. A direct
 * buffer's memory is freed only when a garbage collection finds it unreachable, and a serving JVM whose old generation
 * rarely fills goes minutes without one: each hot reload left its predecessor's buffer (19 MB for 32 images at 224 px)
 * resident until then.
 */
public final class DirectBuffers {
    /** Idle buffers kept for the next taker; more are left to the collector. */
    private static final int KEPT = 2;
    private static final List<ByteBuffer> IDLE = new ArrayList<>();

    private DirectBuffers() {
    }

    /** A native-order direct buffer of at least {@code bytes}, cleared: an idle one that fits, else a new one. */
    public static ByteBuffer take(int bytes) {
        synchronized (IDLE) {
            for (int i = 0; i < IDLE.size(); i++) {
                if (IDLE.get(i).capacity() >= bytes) {
                    return IDLE.remove(i).clear();
                }
            }
        }
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }

    /**
     * {@code current}, cleared, where it holds {@code bytes}; else a larger one from {@link #take}, {@code current}
     * handed back: how a model's staging buffer grows to the largest batch it has seen.
     */
    public static ByteBuffer atLeast(ByteBuffer current, int bytes) {
        if (current != null && current.capacity() >= bytes) {
            return current.clear();
        }
        give(current);
        return take(bytes);
    }

    /** Hands back a buffer from {@link #take} that its owner no longer reads; null or empty is ignored. */
    public static void give(ByteBuffer buffer) {
        if (buffer == null || buffer.capacity() == 0) {
            return;
        }
        synchronized (IDLE) {
            IDLE.add(buffer);
            IDLE.sort((a, b) -> Integer.compare(b.capacity(), a.capacity()));
            while (IDLE.size() > KEPT) {
                IDLE.remove(IDLE.size() - 1);
            }
        }
    }
}
