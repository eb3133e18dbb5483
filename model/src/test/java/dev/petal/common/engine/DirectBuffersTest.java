package dev.petal.common.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class DirectBuffersTest {
    /**
     * Larger than any buffer another test in this JVM gives back (32 images of 224 px are 19.3 MB), so the shared pool's
     * other buffers neither fit these takes nor outrank these gives.
     */
    private static final int LARGE = 25_000_001;

    @Test
    void aBufferHandedBackGoesToTheNextTakerThatFitsIt() {
        ByteBuffer first = DirectBuffers.take(LARGE);
        assertTrue(first.isDirect() && first.capacity() >= LARGE && first.order() == ByteOrder.nativeOrder());
        first.putInt(0, 42).position(8);
        DirectBuffers.give(first);
        ByteBuffer next = DirectBuffers.take(LARGE - 1000);
        assertSame(first, next, "a closed model's staging buffer is the next model's");
        assertEquals(0, next.position(), "handed on cleared");
        ByteBuffer larger = DirectBuffers.take(LARGE + 1);
        assertNotSame(first, larger, "one that does not fit is not handed on");
        DirectBuffers.give(next);
        DirectBuffers.give(larger);
    }

    @Test
    void onlyTheTwoLargestIdleBuffersAreKept() {
        ByteBuffer a = DirectBuffers.take(LARGE + 5_000_000);
        ByteBuffer b = DirectBuffers.take(LARGE + 5_000_001);
        ByteBuffer c = DirectBuffers.take(LARGE + 5_000_002);
        DirectBuffers.give(a);
        DirectBuffers.give(c);
        DirectBuffers.give(b);
        ByteBuffer first = DirectBuffers.take(LARGE + 5_000_000);
        ByteBuffer second = DirectBuffers.take(LARGE + 5_000_000);
        assertTrue((first == b && second == c) || (first == c && second == b), "the two largest kept");
        assertNotSame(a, DirectBuffers.take(LARGE + 5_000_000), "the smallest was left to the collector");
    }

    @Test
    void aStagingBufferIsKeptWhileItFitsAndHandedBackWhenItGrows() {
        ByteBuffer small = DirectBuffers.atLeast(null, LARGE + 7_000_000);
        small.position(16);
        assertSame(small, DirectBuffers.atLeast(small, LARGE + 6_000_000), "a batch that fits reuses the buffer");
        assertEquals(0, small.position(), "cleared for the next batch");
        ByteBuffer grown = DirectBuffers.atLeast(small, LARGE + 8_000_000);
        assertTrue(grown.capacity() >= LARGE + 8_000_000);
        assertSame(small, DirectBuffers.take(LARGE + 7_000_000), "the outgrown buffer was handed back");
    }
}
