package dev.petal.common.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.inference.Classifier;
import dev.petal.common.inference.LoadedModel;
import dev.petal.common.inference.ModelSource;
import dev.petal.common.inference.ModelId;
import dev.petal.common.model.ActivationRanges;
import dev.petal.common.model.Int8Calibration;
import dev.petal.common.model.NetworkSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.ServingRuntime;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.training.ModelSession;
import dev.petal.common.training.TrainingSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Steady-state speed of the model alone, on random inputs: warm-up steps first, then timed steps.
 * The same measurement as bench/pytorch_reference.py, so the two can be compared side by side.
 */
public final class ModelBenchmark {
    /** What to measure. */
    public enum Mode { TRAIN, INFER }

    /**
     * {@code precision}: what the model computes in (training: mixed, fp32 master weights);
     * {@code runtime}: what serves the forward (inference only; the faster one for {@link ServingRuntime#AUTO});
     * {@code profile}: where to write a Chrome trace of the timed steps (libtorch's profiler), or null.
     */
    public record Options(Mode mode, NetworkSpec network, int batchSize, int steps, int warmup, String device,
            Precision precision, ServingRuntime runtime, Path profile) {}

    private ModelBenchmark() {}

    public static Map<String, Object> run(Options o) {
        if (o.mode() == Mode.TRAIN && !o.precision().trains()) {
            throw new IllegalArgumentException(o.precision().id() + " serves only: train in fp32 or bf16");
        }
        Engine engine = PyTorchEngine.get();
        Device device = PyTorchEngine.device(o.device());
        Random random = new Random(100);
        int size = o.network().imageSize();
        float[] pixels = new float[o.batchSize() * 3 * size * size];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextGaussian();
        }
        int[] labels = new int[o.batchSize()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = random.nextInt(5);
        }
        int totalSteps = o.warmup() + o.steps();
        double seconds;
        String runtime = ServingRuntime.LIBTORCH.id();
        if (o.mode() == Mode.TRAIN) {
            try (ModelSession session = new ModelSession(spec(o), TrainingSettings.seedRecipe(totalSteps), device, null,
                    o.precision())) {
                seconds = timed(o, i -> session.trainStep(pixels, labels));
            }
        } else {
            // What the inference service runs: the Classifier (BatchNorm folded, no optimizer, no autograd).
            try (Classifier classifier = freshClassifier(o, device, pixels)) {
                runtime = classifier.runtime().id();
                seconds = timed(o, i -> classifier.topK(pixels, o.batchSize(), 1));
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("engine", "djl-pytorch");
        out.put("version", engine.getVersion());
        out.put("mode", o.mode().name().toLowerCase());
        out.put("arch", o.network().architecture().id());
        out.put("batchSize", o.batchSize());
        out.put("imageSize", size);
        out.put("steps", o.steps());
        out.put("device", device.toString());
        out.put("precision", o.precision().id());
        out.put("runtime", runtime);
        out.put("imagesPerSec", Math.round(o.steps() * o.batchSize() / seconds * 1000) / 1000.0);
        out.put("msPerBatch", Math.round(seconds / o.steps() * 1e5) / 100.0);
        out.put("peakRssMb", peakRssMb());
        out.put("allocator", nativeAllocator());
        return out;
    }

    /** Warm-up steps, then the timed ones; returns their seconds. */
    private static double timed(Options o, IntConsumer step) {
        for (int i = 0; i < o.warmup(); i++) {
            step.accept(i);
        }
        if (o.profile() != null) {
            JniUtils.startProfile(false, true, false);
        }
        long start = System.nanoTime();
        for (int i = 0; i < o.steps(); i++) {
            step.accept(i);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (o.profile() != null) {
            JniUtils.stopProfile(o.profile().toAbsolutePath().toString());
        }
        return seconds;
    }

    /**
     * A Classifier over freshly initialised weights (speed does not depend on their values), loaded as the
     * inference service loads a checkpoint: streamed from a weights file. In int8, calibrated on the benchmark's
     * {@code pixels}.
     */
    private static Classifier freshClassifier(Options o, Device device, float[] pixels) {
        try (LoadedModel loaded = ModelSource.freshlyInitialised(spec(o), new ModelId("bench", "fresh", "-"))) {
            ActivationRanges ranges = o.precision() == Precision.INT8 ? Int8Calibration.measure(loaded, spec(o), pixels, o.batchSize()) : null;
            return Classifier.load(loaded, spec(o), device, o.precision(), o.runtime(), ranges);
        }
    }

    /** Five classes, as the flowers have. */
    private static ModelSpec spec(Options o) {
        return o.network().withLabels(List.of("a", "b", "c", "d", "e"));
    }

    /**
     * The malloc that libtorch's tensors come from: tcmalloc or jemalloc when preloaded (the launcher's
     * PETAL_ALLOCATOR), else glibc. Peak memory depends on it, so the bench reports it.
     */
    public static String nativeAllocator() {
        try {
            String maps = Files.readString(Path.of("/proc/self/maps"));
            return maps.contains("libtcmalloc") ? "tcmalloc" : maps.contains("libjemalloc") ? "jemalloc" : "glibc";
        } catch (IOException e) {
            return "unknown"; // not Linux
        }
    }

    /** Peak resident set of this process (VmHWM), heap and native memory together. */
    public static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Math.round(Long.parseLong(line.replaceAll("[^0-9]", "")) / 102.4) / 10.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: report unknown
        }
        return -1;
    }
}
