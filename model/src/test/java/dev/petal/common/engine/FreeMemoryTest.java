package dev.petal.common.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class FreeMemoryTest {
    private static final int BLOCK = 64 * 1024;
    private static final int BLOCKS = 2048; // 128 MB

    /**
     * Memory freed in small blocks stays resident, as the launcher's glibc settings (no trimming, no mmap, set here with
     * {@code mallopt}) or tcmalloc keep it, until {@link FreeMemory#release} hands it back.
     */
    @Test
    void freedMemoryLeavesTheProcessOnRelease() throws Exception {
        NativeLibrary process = NativeLibrary.getProcess();
        process.getFunction("mallopt").invokeInt(new Object[] {-1, Integer.MAX_VALUE}); // M_TRIM_THRESHOLD
        process.getFunction("mallopt").invokeInt(new Object[] {-4, 0}); // M_MMAP_MAX
        long[] blocks = new long[BLOCKS];
        for (int i = 0; i < BLOCKS; i++) {
            blocks[i] = Native.malloc(BLOCK);
            new Pointer(blocks[i]).setMemory(0, BLOCK, (byte) 1);
        }
        for (long block : blocks) {
            Native.free(block);
        }
        long before = residentMb();
        FreeMemory.release();
        long after = residentMb();
        assertTrue(before - after >= 64, "resident " + before + " MB before the release, " + after + " MB after");
    }

    private static long residentMb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
