package dev.petal.trainer.job;

import dev.petal.common.concurrent.DaemonThreads;
import dev.petal.common.image.ImageDecoder;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.image.RejectedImageException;
import dev.petal.common.image.RgbConversion;
import dev.petal.trainer.data.DatasetIndex;
import dev.petal.trainer.data.RecordFetcher;
import dev.petal.trainer.data.Sample;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Feeds the training loop: batches are read (cache, Kafka or object storage) on one thread and
 * decoded on a worker pool, {@code prefetch} batches ahead, so the loop only waits when decoding
 * cannot keep up. With {@code prefetch} 0 each batch is read and decoded when the loop asks for
 * it, still on the pool: between steps, for a model that needs every core while it runs. A sample
 * that cannot be read or decoded is left out of its batch and counted.
 *
 * <p>Decoded images are kept, up to a byte budget, per sample and decode size: a decode depends on
 * nothing else, so every later epoch (and every validation) only crops, resizes and jitters, with the
 * same pixels as a fresh decode.
 */
final class BatchLoader implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BatchLoader.class);

    /** NCHW pixels and labels of the samples that made it; {@code skipped} did not. */
    record Batch(float[] pixels, int[] labels, int size, int skipped) {}

    private final DatasetIndex index;
    private final RecordFetcher fetcher;
    private final ImageDecoder decoder;
    private final ExecutorService reader = Executors.newSingleThreadExecutor(DaemonThreads.named("petal-batch-reader"));
    private final ExecutorService decoders;
    private final int prefetch;
    private final AtomicInteger skipped = new AtomicInteger();
    private final Map<DecodeKey, BufferedImage> decoded = new ConcurrentHashMap<>();
    private final AtomicLong decodedBytesLeft;

    /** A record's place on the topic (train and valid samples are numbered separately) and the decode size. */
    private record DecodeKey(int partition, long offset, int size) {}

    /** {@code decodedCacheBytes}: the most memory decoded images may take (0: decode every time). */
    BatchLoader(DatasetIndex index, RecordFetcher fetcher, ImageDecoder decoder, int decodeThreads, int prefetch,
                long decodedCacheBytes) {
        this.index = index;
        this.fetcher = fetcher;
        this.decoder = decoder;
        this.decoders = Executors.newFixedThreadPool(decodeThreads, DaemonThreads.named("petal-decoder"));
        this.prefetch = prefetch;
        this.decodedBytesLeft = new AtomicLong(decodedCacheBytes);
    }

    int skippedTotal() {
        return skipped.get();
    }

    /**
     * The batches of {@code ordered}, in order, made by {@code preprocessor} (its size is the batches');
     * {@code augment} (null: none) is seeded by (seed, epoch, sample).
     */
    Iterator<Batch> batches(List<Sample> ordered, Preprocessor preprocessor, int batchSize, Augmenter augment, long seed, int epoch) {
        List<List<Sample>> chunks = new ArrayList<>();
        for (int i = 0; i < ordered.size(); i += batchSize) {
            chunks.add(ordered.subList(i, Math.min(ordered.size(), i + batchSize)));
        }
        Deque<Future<Batch>> ahead = new ArrayDeque<>();
        int[] next = {0};
        return new Iterator<>() {
            private void fill() {
                while (ahead.size() < prefetch && next[0] < chunks.size()) {
                    List<Sample> chunk = chunks.get(next[0]++);
                    ahead.add(reader.submit(() -> load(chunk, preprocessor, augment, seed, epoch)));
                }
            }

            @Override
            public boolean hasNext() {
                fill();
                return !ahead.isEmpty() || (prefetch == 0 && next[0] < chunks.size());
            }

            private Batch loadNow() {
                if (next[0] >= chunks.size()) {
                    throw new NoSuchElementException();
                }
                try {
                    return load(chunks.get(next[0]++), preprocessor, augment, seed, epoch);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while loading a batch", e);
                }
            }

            @Override
            public Batch next() {
                if (prefetch == 0) {
                    return loadNow();
                }
                fill();
                if (ahead.isEmpty()) {
                    throw new NoSuchElementException();
                }
                try {
                    Batch batch = ahead.poll().get();
                    fill();
                    return batch;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while loading a batch", e);
                } catch (ExecutionException e) {
                    throw new IllegalStateException("loading a batch failed: " + e.getCause().getMessage(), e.getCause());
                }
            }
        };
    }

    private Batch load(List<Sample> chunk, Preprocessor preprocessor, Augmenter augment, long seed, int epoch) throws InterruptedException {
        int size = preprocessor.size();
        List<Sample> missing = chunk.stream().filter(s -> index.cached(s) == null && !decoded.containsKey(new DecodeKey(s.partition(), s.offset(), size)))
                .toList();
        Map<Sample, Object> fetched = missing.isEmpty() ? Map.of() : fetcher.fetch(missing);
        int length = preprocessor.tensorLength();
        float[] pixels = new float[chunk.size() * length];
        boolean[] ok = new boolean[chunk.size()];
        List<Callable<Void>> work = new ArrayList<>();
        for (int i = 0; i < chunk.size(); i++) {
            int slot = i;
            Sample sample = chunk.get(i);
            DecodeKey key = new DecodeKey(sample.partition(), sample.offset(), size);
            BufferedImage kept = decoded.get(key);
            Object bytes = kept != null ? null : index.cached(sample) != null ? index.cached(sample) : fetched.get(sample);
            work.add(() -> {
                if (kept == null && !(bytes instanceof byte[])) {
                    LOG.warnf("skipping %s-%d@%d: %s", index.topic(), sample.partition(), sample.offset(), bytes);
                    return null;
                }
                try {
                    BufferedImage image = kept != null ? kept : decodeAndKeep(key, (byte[]) bytes);
                    if (augment != null) {
                        image = augment.apply(RgbConversion.toRgb(image), size, seed, epoch, sample.index());
                    }
                    preprocessor.toTensor(image, pixels, slot * length);
                    ok[slot] = true;
                } catch (RejectedImageException e) {
                    LOG.warnf("skipping %s-%d@%d: %s (%s)", index.topic(), sample.partition(), sample.offset(),
                            e.errorClass(), e.reason());
                }
                return null;
            });
        }
        for (Future<Void> f : decoders.invokeAll(work)) {
            try {
                f.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
        int good = 0;
        int[] labels = new int[chunk.size()];
        for (int i = 0; i < chunk.size(); i++) {
            if (ok[i]) {
                if (good != i) {
                    System.arraycopy(pixels, i * length, pixels, good * length, length);
                }
                labels[good++] = chunk.get(i).label();
            }
        }
        skipped.addAndGet(chunk.size() - good);
        float[] packed = good == chunk.size() ? pixels : java.util.Arrays.copyOf(pixels, good * length);
        return new Batch(packed, java.util.Arrays.copyOf(labels, good), good, chunk.size() - good);
    }

    /** The decode of {@code encoded} at {@code key}'s size, kept while the budget allows. */
    private BufferedImage decodeAndKeep(DecodeKey key, byte[] encoded) {
        BufferedImage image = decoder.decode(encoded, key.size()).image();
        DataBuffer pixels = image.getRaster().getDataBuffer();
        long bytes = (long) pixels.getSize() * pixels.getNumBanks() * DataBuffer.getDataTypeSize(pixels.getDataType()) / 8;
        if (decodedBytesLeft.addAndGet(-bytes) >= 0) {
            decoded.put(key, image);
        } else {
            decodedBytesLeft.addAndGet(bytes);
        }
        return image;
    }


    @Override
    public void close() {
        reader.shutdownNow();
        decoders.shutdownNow();
    }
}
