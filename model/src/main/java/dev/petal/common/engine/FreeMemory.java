package dev.petal.common.engine;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;

/**
 * Hands the native allocator's free pages back to the operating system, once a model has been loaded or closed.
 * tcmalloc (and glibc, more slowly) keeps the pages a process frees for its next allocations; a load allocates and
 * frees several copies of the weights (libtorch's, the ONNX graph, ONNX Runtime's), and a serving JVM with a hot reload
 * a minute kept growing for a quarter of an hour before its allocator reused them (docs/performance.md, "Hot reloads on
 * ONNX Runtime").
 * Only at those moments: libtorch reuses the pages each batch frees, and tcmalloc handing them back on every free
 * ({@code TCMALLOC_AGGRESSIVE_DECOMMIT}) made its forward passes three times slower.
 */
public final class FreeMemory {
    private static final System.Logger LOG = System.getLogger(FreeMemory.class.getName());
    /** tcmalloc's {@code MallocExtension_ReleaseFreeMemory()} where it is preloaded, else glibc's {@code malloc_trim(0)}; nothing where neither is found. */
    private static final Runnable RELEASE = find();

    private FreeMemory() {
    }

    /** Returns the allocator's free pages to the operating system; nothing where no allocator call was found. */
    public static void release() {
        try {
            RELEASE.run();
        } catch (RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.DEBUG, "releasing the allocator's free memory failed", e);
        }
    }

    private static Runnable find() {
        try {
            NativeLibrary process = NativeLibrary.getProcess();
            try {
                Function tcmalloc = process.getFunction("MallocExtension_ReleaseFreeMemory");
                return () -> tcmalloc.invokeVoid(new Object[0]);
            } catch (UnsatisfiedLinkError notPreloaded) {
                Function glibc = process.getFunction("malloc_trim");
                return () -> glibc.invokeInt(new Object[] {0L});
            }
        } catch (RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.DEBUG, "no allocator call to release free memory", e);
            return () -> { };
        }
    }
}
