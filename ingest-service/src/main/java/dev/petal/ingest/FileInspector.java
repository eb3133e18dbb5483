package dev.petal.ingest;

import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.concurrent.DaemonThreads;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.image.RejectedImageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Reads, hashes and validates files on a few threads and hands the results back in input order, on
 * the caller's thread, with a bounded number in flight (memory stays flat however many files).
 * Validation (header check, then a decode check) is the costly part, hence the threads.
 */
public final class FileInspector implements AutoCloseable {

    /**
     * One inspected file. {@code bytes} and {@code sha256} are {@code null} when the file was not
     * read (unreadable, or larger than the byte limit); {@code facts} is {@code null} when rejected or known.
     */
    public record Inspected(Path path, long size, byte[] bytes, String sha256, ImageFacts facts, Rejection rejection) {
        public boolean accepted() {
            return rejection == null;
        }
    }

    private final ImageCheck check;
    private final Predicate<String> known;
    private final int window;
    private final ExecutorService pool;

    public FileInspector(ImageCheck check, int threads) {
        this(check, threads, sha256 -> false);
    }

    /**
     * @param known sha256s of images validated and published before: hashed but not decoded again
     *              (their {@code facts} are {@code null}), so a re-run costs reading, not decoding
     */
    public FileInspector(ImageCheck check, int threads, Predicate<String> known) {
        this.check = check;
        this.known = known;
        this.window = threads * 8;
        this.pool = Executors.newFixedThreadPool(threads, DaemonThreads.named("petal-inspect"));
    }

    public ImageLimits limits() {
        return check.limits();
    }

    /** Inspects every path and passes each result to {@code sink}, in the order of {@code paths}. */
    public void inspect(List<Path> paths, Consumer<Inspected> sink) {
        ArrayDeque<Future<Inspected>> inFlight = new ArrayDeque<>();
        int next = 0;
        while (next < paths.size() || !inFlight.isEmpty()) {
            while (next < paths.size() && inFlight.size() < window) {
                Path path = paths.get(next++);
                inFlight.add(pool.submit(() -> inspect(path)));
            }
            sink.accept(await(inFlight.poll()));
        }
    }

    public Inspected inspect(Path path) {
        long size;
        byte[] bytes;
        try {
            size = Files.size(path);
            if (size > check.limits().maxBytes()) { // never read an arbitrarily large file into memory
                return new Inspected(path, size, null, null, null, new Rejection(
                        RejectedImageException.Kind.TOO_LARGE.code(),
                        size + " bytes, more than the limit of " + check.limits().maxBytes() + " bytes; file not read"));
            }
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            return new Inspected(path, 0, null, null, null, new Rejection(Rejection.UNREADABLE, "cannot read: " + e));
        }
        String sha256 = Sha256.hex(bytes);
        if (known.test(sha256)) {
            return new Inspected(path, bytes.length, bytes, sha256, null, null);
        }
        try {
            return new Inspected(path, bytes.length, bytes, sha256, check.check(bytes), null);
        } catch (RejectedImageException e) {
            return new Inspected(path, bytes.length, bytes, sha256, null, Rejection.of(e));
        }
    }

    private static Inspected await(Future<Inspected> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IngestFailedException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("inspecting a file failed unexpectedly", e.getCause());
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
