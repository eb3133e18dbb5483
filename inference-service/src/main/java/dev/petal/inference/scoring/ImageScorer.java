package dev.petal.inference.scoring;

import dev.petal.common.concurrent.DaemonThreads;
import dev.petal.common.image.DecodedImage;
import dev.petal.common.image.ImageDecoder;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.image.RejectedImageException;
import dev.petal.common.inference.Classifier;
import dev.petal.common.inference.Prediction;
import dev.petal.inference.InferenceMetrics;
import dev.petal.inference.InferenceSettings;
import dev.petal.service.config.ImageConfig;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jboss.logging.Logger;

/**
 * Turns a batch of inputs into top-k labels: fetch and decode on a small thread pool (common
 * {@link ImageDecoder}, limits from {@code petal.image.*}), preprocess the way the model's spec says,
 * then one forward pass for all inputs that decoded. The Kafka loop, {@code POST /predict},
 * {@code classify} and the benchmark all score through here.
 */
@ApplicationScoped
public class ImageScorer {
    private static final Logger LOG = Logger.getLogger(ImageScorer.class);

    /** Per input: the top-k labels, or why it was rejected. */
    public record Outcome(List<Prediction.Scored> top, Rejection rejection) {
        public boolean scored() {
            return top != null;
        }
    }

    private final ImageDecoder decoder;
    private final ExecutorService decodePool;
    /**
     * Every forward pass runs on this one thread. libtorch's OpenMP keeps a team of worker threads per calling thread;
     * the channel's batches arrive on whichever worker thread is free, so without it each caller grows its own team
     * and the teams contend for the cores.
     */
    private final ExecutorService modelThread = Executors.newSingleThreadExecutor(DaemonThreads.named("petal-model"));
    private final int topK;
    private final InferenceMetrics metrics;

    public ImageScorer(InferenceSettings settings, ImageConfig images, InferenceMetrics metrics) {
        this.metrics = metrics;
        this.decoder = new ImageDecoder(images.limits());
        int threads = settings.decodeThreadCount();
        this.decodePool = Executors.newFixedThreadPool(threads, DaemonThreads.named("petal-decode"));
        this.topK = settings.topK();
    }

    public int topK() {
        return topK;
    }

    public List<Outcome> score(List<ImageInput> inputs, Classifier classifier) {
        return score(inputs, classifier, topK);
    }

    public List<Outcome> score(List<ImageInput> inputs, Classifier classifier, int k) {
        return run(decode(inputs, classifier.preprocessor()), classifier, k).outcomes();
    }

    /**
     * A batch decoded for one model's preprocessor: the inputs that decoded packed densely at the front of
     * {@code pixels}, per input the reason it was rejected (null when it decoded), and how long decoding took.
     */
    public record Decoded(float[] pixels, int dense, Rejection[] rejections, long nanos) {}

    /** One outcome per input of a {@link Decoded} batch, and how long its forward pass took. */
    public record Forward(List<Outcome> outcomes, long nanos) {
        /** No inputs, no forward pass. */
        public static final Forward NONE = new Forward(List.of(), 0);
    }

    /** Fetches and decodes every input on the decode pool, the calling thread waiting: the first half of {@link #score}. */
    public Decoded decode(List<ImageInput> inputs, Preprocessor preprocessor) {
        int perImage = preprocessor.tensorLength();
        float[] pixels = new float[inputs.size() * perImage];
        Rejection[] rejections = new Rejection[inputs.size()];
        long decodeStart = System.nanoTime();
        List<Future<?>> work = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            int slot = i;
            work.add(decodePool.submit(() -> {
                rejections[slot] = decodeInto(inputs.get(slot), preprocessor, pixels, slot * perImage);
            }));
        }
        for (Future<?> f : work) {
            await(f);
        }
        // Pack the inputs that decoded to the front, so the model sees one dense batch.
        int good = 0;
        for (int i = 0; i < inputs.size(); i++) {
            if (rejections[i] == null) {
                if (good != i) {
                    System.arraycopy(pixels, i * perImage, pixels, good * perImage, perImage);
                }
                good++;
            }
        }
        long nanos = System.nanoTime() - decodeStart;
        metrics.stage("decode", nanos);
        return new Decoded(pixels, good, rejections, nanos);
    }

    /**
     * One forward pass over what decoded, on the model thread: the second half of {@link #score}. {@code decoded} must
     * come from this classifier's preprocessor.
     */
    public Forward run(Decoded decoded, Classifier classifier, int k) {
        long modelStart = System.nanoTime();
        int dense = decoded.dense();
        List<List<Prediction.Scored>> tops = dense == 0 ? List.of()
                : await(modelThread.submit(() -> classifier.topK(decoded.pixels(), dense, k)));
        long nanos = System.nanoTime() - modelStart;
        metrics.stage("model", nanos);
        List<Outcome> outcomes = new ArrayList<>(decoded.rejections().length);
        int next = 0;
        for (Rejection rejection : decoded.rejections()) {
            outcomes.add(rejection == null ? new Outcome(tops.get(next++), null) : new Outcome(null, rejection));
        }
        return new Forward(outcomes, nanos);
    }

    private static <T> T await(Future<T> work) {
        try {
            return work.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while scoring", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("scoring failed unexpectedly", e.getCause());
        }
    }

    private Rejection decodeInto(ImageInput input, Preprocessor preprocessor, float[] pixels, int offset) {
        try {
            // Decoded for the model's input size, as the trainer decodes (ImageDecoder's subsampling).
            long start = System.nanoTime();
            DecodedImage image = decoder.decode(input.bytes(), preprocessor.size());
            long decoded = System.nanoTime();
            preprocessor.toTensor(image.image(), pixels, offset);
            metrics.imagePart("read", decoded - start);
            metrics.imagePart("resize-normalise", System.nanoTime() - decoded);
            return null;
        } catch (RejectedImageException e) {
            return new Rejection(e.errorClass(), e.reason());
        } catch (ImageInput.RejectedInputException e) {
            return e.rejection();
        } catch (Throwable e) {
            // Anything else (a reader's RuntimeException, OutOfMemoryError, StackOverflowError, an
            // InternalError from Java2D or a colour profile) is this input's problem: it must not
            // escape, fail the whole batch and stop the scoring loop.
            LOG.warn("unexpected failure decoding an input", e);
            return new Rejection(Rejection.INTERNAL, String.valueOf(e));
        }
    }

    @PreDestroy
    void close() {
        decodePool.shutdownNow();
        modelThread.shutdownNow();
    }
}
