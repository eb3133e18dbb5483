import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * ONNX Runtime as a user would run it from Java: its own Maven Central API, all graph optimisations, the given
 * intra-op threads, one network exported from torchvision (bench/pytorch_reference.py --export-onnx). Times
 * inference on one random batch and prints one JSON line in pytorch_reference.py's shape. Run by bench/compare.py:
 *   java -cp onnxruntime-VERSION.jar bench/OnnxRuntimeReference.java --model FILE.onnx --batch-size 32 --steps 10
 */
public final class OnnxRuntimeReference {
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>(Map.of("--batch-size", "32", "--image-size", "224", "--steps", "10",
                "--warmup", "3", "--threads", "2", "--arch", "resnet18"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i], args[i + 1]);
        }
        if (!a.containsKey("--model")) {
            System.err.println("OnnxRuntimeReference: --model FILE.onnx is required");
            System.exit(2);
        }
        int batch = Integer.parseInt(a.get("--batch-size"));
        int size = Integer.parseInt(a.get("--image-size"));
        int steps = Integer.parseInt(a.get("--steps"));
        int warmup = Integer.parseInt(a.get("--warmup"));
        int threads = Integer.parseInt(a.get("--threads"));

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            try (OrtSession session = env.createSession(a.get("--model"), options)) {
                String input = session.getInputNames().iterator().next();
                float[] pixels = new float[batch * 3 * size * size];
                Random random = new Random(100);
                for (int i = 0; i < pixels.length; i++) {
                    pixels[i] = (float) random.nextGaussian();
                }
                try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), new long[] {batch, 3, size, size})) {
                    for (int i = 0; i < warmup; i++) {
                        session.run(Map.of(input, x)).close();
                    }
                    long start = System.nanoTime();
                    for (int i = 0; i < steps; i++) {
                        try (OrtSession.Result out = session.run(Map.of(input, x))) {
                            ((float[][]) out.get(0).getValue())[0][0] += 0; // read back, as a caller would
                        }
                    }
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.printf("{\"engine\": \"onnxruntime\", \"version\": \"%s\", \"mode\": \"infer\", \"arch\": \"%s\", "
                                    + "\"batchSize\": %d, \"imageSize\": %d, \"steps\": %d, \"precision\": \"fp32\", "
                                    + "\"imagesPerSec\": %.3f, \"peakRssMb\": %.1f, \"threads\": %d, \"allocator\": \"%s\"}%n",
                            env.getVersion(), a.get("--arch"), batch, size, steps, steps * batch / seconds, peakRssMb(), threads,
                            allocator());
                }
            }
        }
    }

    private static double peakRssMb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }

    /** The malloc in use, as the other references report it: the comparison is only fair when they match. */
    private static String allocator() throws Exception {
        String maps = Files.readString(Path.of("/proc/self/maps"));
        return maps.contains("libtcmalloc") ? "tcmalloc" : maps.contains("libjemalloc") ? "jemalloc" : "glibc";
    }
}
