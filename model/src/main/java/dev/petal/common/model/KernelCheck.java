package dev.petal.common.model;

import ai.djl.Device;
import dev.petal.common.engine.ChildJvm;
import dev.petal.common.engine.PyTorchEngine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A known-answer check of libtorch's convolution kernels before a network trusts them on a CPU.
 *
 * <p>Why: on some virtual machines oneDNN (inside libtorch 2.7) sizes its convolution blocking from
 * cache sizes the hypervisor hides, and some shapes then compute wrong results or kill the process
 * with SIGFPE (docs/engine.md). So the first time a network's shapes are used on a host, each distinct
 * convolution shape is computed by the route the program would use, in a child JVM (a crash kills the
 * probe, not this process), and compared with a float64 reference. A shape that fails takes the
 * {@link ConvolutionRoute#GEMM} route instead, which is checked the same way. The verdicts are cached per
 * host and libtorch version, so later processes start at once.
 *
 * <p>Serving shapes are checked at batch 1 and {@value #SERVING_BATCH}, training shapes (forward and both
 * gradients) at batch {@value #TRAINING_BATCH}. {@code PETAL_KERNEL_CHECK=off} (or the system property
 * {@code petal.kernel-check=off}) trusts the kernels unchecked.
 */
public final class KernelCheck {
    static final int SERVING_BATCH = 32;
    static final int TRAINING_BATCH = 2;
    /** Bump when probes change meaning, so old verdicts are not reused. */
    private static final String FORMAT = "petal-kernel-check-1";
    private static final System.Logger LOG = System.getLogger(KernelCheck.class.getName());
    private static final Object LOCK = new Object();
    /** What this process has said already: each finding is logged once, not at every program built. */
    private static final java.util.Set<String> LOGGED = new java.util.HashSet<>();
    private static final long CHILD_TIMEOUT_MINUTES = 20;

    /** Which program will run the convolutions. */
    public enum Use {
        /** {@link ServingProgram}: forward only; oneDNN's fused kernels on a CPU. */
        SERVING,
        /** {@link TrainingProgram}: forward and both gradients through {@code torch.conv2d}. */
        TRAINING;

        String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One convolution shape computed one way. */
    record Probe(Use use, Precision precision, ConvolutionRoute route, LayerPlan.Shape shape, int batch) {
        String key() {
            LayerPlan.Shape s = shape;
            return use.id() + "/" + precision.id() + "/" + route.name().toLowerCase(Locale.ROOT) + "/" + s.inChannels() + "-"
                    + s.outChannels() + "-" + s.kernel() + "-" + s.stride() + "-" + s.padding() + "-" + s.groups() + "-"
                    + s.inputSize() + "/b" + batch;
        }

        static Probe parse(String key) {
            String[] parts = key.split("/");
            String[] d = parts[3].split("-");
            int[] n = new int[d.length];
            for (int i = 0; i < d.length; i++) {
                n[i] = Integer.parseInt(d[i]);
            }
            return new Probe(Use.valueOf(parts[0].toUpperCase(Locale.ROOT)), Precision.parse(parts[1]),
                    ConvolutionRoute.valueOf(parts[2].toUpperCase(Locale.ROOT)),
                    new LayerPlan.Shape(n[0], n[1], n[2], n[3], n[4], n[5], n[6]), Integer.parseInt(parts[4].substring(1)));
        }
    }

    /**
     * What a probe found: {@code ok}, {@code wrong} (beyond tolerance), {@code crash} (the process died),
     * or {@code error} (the route could not run); with the relative error and median time where known.
     */
    record Result(String status, double error, long micros, String detail) {
        boolean ok() {
            return status.equals("ok");
        }

        static Result parse(String text) {
            String[] p = text.strip().split(" ", 3);
            return switch (p[0]) {
                case "ok", "wrong" -> new Result(p[0], Double.parseDouble(p[1]), Long.parseLong(p[2]), "");
                default -> new Result(p[0], Double.NaN, -1, p.length > 1 ? text.strip().substring(p[0].length() + 1) : "");
            };
        }

        String format() {
            return switch (status) {
                case "ok", "wrong" -> status + " " + String.format(Locale.ROOT, "%.3g", error) + " " + micros;
                default -> status + " " + detail;
            };
        }

        /** Why a route was refused, for the log. */
        String why() {
            return switch (status) {
                case "wrong" -> "off by " + String.format(Locale.ROOT, "%.2g", error) + " of the output's range";
                case "crash" -> "killed the process (" + detail + ")";
                default -> status + " (" + detail + ")";
            };
        }
    }

    private KernelCheck() {}

    /**
     * The route for each convolution shape of {@code plan} that must not take the native one on this
     * host; empty when every native kernel is right, on a GPU, or when the check is off. Runs the probes
     * that no earlier process on this host has run.
     *
     * @throws IllegalStateException when a shape computes wrong on every route
     */
    public static Map<LayerPlan.Shape, ConvolutionRoute> routes(LayerPlan plan, Precision precision, Use use, Device device) {
        if (!ServingRuntime.libtorchServes(precision)) {
            throw new IllegalArgumentException(precision.id() + " runs on ONNX Runtime's kernels, not libtorch's: nothing to check");
        }
        if (device.isGpu() || off()) {
            return Map.of();
        }
        synchronized (LOCK) {
            Verdicts verdicts = Verdicts.open();
            List<LayerPlan.Shape> shapes = plan.convolutionShapes();
            Map<LayerPlan.Shape, List<Probe>> nativeProbes = probes(shapes, precision, use, ConvolutionRoute.NATIVE);
            verdicts.ensure(nativeProbes.values().stream().flatMap(List::stream).toList(), plan, use);
            List<LayerPlan.Shape> failing = shapes.stream()
                    .filter(s -> !nativeProbes.get(s).stream().allMatch(p -> verdicts.get(p).ok())).toList();
            if (failing.isEmpty()) {
                return Map.of();
            }
            Map<LayerPlan.Shape, List<Probe>> gemmProbes = probes(failing, precision, use, ConvolutionRoute.GEMM);
            verdicts.ensure(gemmProbes.values().stream().flatMap(List::stream).toList(), plan, use);
            Map<LayerPlan.Shape, ConvolutionRoute> routes = new LinkedHashMap<>();
            List<String> findings = new ArrayList<>();
            long nativeMicros = 0;
            long gemmMicros = 0;
            for (LayerPlan.Shape shape : failing) {
                Result refused = nativeProbes.get(shape).stream().map(verdicts::get).filter(r -> !r.ok()).findFirst().orElseThrow();
                Result gemm = gemmProbes.get(shape).stream().map(verdicts::get).filter(r -> !r.ok()).findFirst()
                        .orElse(null);
                if (gemm != null) {
                    throw new IllegalStateException("no convolution route computes " + shape + " (" + precision.id() + ", "
                            + use.id() + ") correctly on this CPU: oneDNN " + refused.why() + ", the matrix product " + gemm.why()
                            + "; see docs/engine.md, \"Hosts that hide their cache sizes\"");
                }
                routes.put(shape, ConvolutionRoute.GEMM);
                long uses = plan.convUnits().stream().filter(u -> u.conv().shape().equals(shape)).count();
                Probe largest = gemmProbes.get(shape).get(gemmProbes.get(shape).size() - 1);
                Probe nativeLargest = nativeProbes.get(shape).get(nativeProbes.get(shape).size() - 1);
                gemmMicros += uses * verdicts.get(largest).micros();
                Result nativeTimed = verdicts.get(nativeLargest);
                nativeMicros = nativeTimed.micros() < 0 || nativeMicros < 0 ? -1 : nativeMicros + uses * nativeTimed.micros();
                findings.add(shape + " " + refused.why());
            }
            int batch = use == Use.SERVING ? SERVING_BATCH : TRAINING_BATCH;
            String message = "oneDNN's convolution kernels are wrong on this CPU for " + failing.size() + " of "
                    + shapes.size() + " " + use.id() + " shapes (" + precision.id() + "): " + String.join("; ", findings)
                    + ". Those convolutions run as matrix products (GEMM), checked right: "
                    + String.format(Locale.ROOT, "%.2f", gemmMicros / 1000.0) + " ms per batch of " + batch
                    + (nativeMicros >= 0 ? " against " + String.format(Locale.ROOT, "%.2f", nativeMicros / 1000.0) + " ms on oneDNN's wrong kernels"
                            : " (oneDNN's cannot be timed: they crash)")
                    + ". Verdicts cached in " + verdicts.file() + " (docs/engine.md).";
            if (LOGGED.add(message)) {
                LOG.log(System.Logger.Level.WARNING, message);
            }
            return routes;
        }
    }

    private static boolean off() {
        String value = System.getProperty("petal.kernel-check", System.getenv("PETAL_KERNEL_CHECK"));
        return value != null && value.trim().equalsIgnoreCase("off");
    }

    private static Map<LayerPlan.Shape, List<Probe>> probes(List<LayerPlan.Shape> shapes, Precision precision, Use use,
            ConvolutionRoute route) {
        Map<LayerPlan.Shape, List<Probe>> probes = new LinkedHashMap<>();
        for (LayerPlan.Shape shape : shapes) {
            List<Probe> list = use == Use.SERVING
                    ? List.of(new Probe(use, precision, route, shape, 1), new Probe(use, precision, route, shape, SERVING_BATCH))
                    : List.of(new Probe(use, precision, route, shape, TRAINING_BATCH));
            probes.put(shape, list);
        }
        return probes;
    }

    /** The verdicts of this host and libtorch: a properties file of probe key to result, shared by every process. */
    static final class Verdicts {
        private final Path file;
        private final Map<String, Result> results = new TreeMap<>();

        private Verdicts(Path file) {
            this.file = file;
        }

        static Verdicts open() {
            Path dir = cacheDirectory();
            Verdicts verdicts = new Verdicts(dir == null ? null : dir.resolve(hostKey() + ".properties"));
            verdicts.reload();
            return verdicts;
        }

        Path file() {
            return file;
        }

        Result get(Probe probe) {
            return results.get(probe.key());
        }

        private void reload() {
            if (file == null || !Files.isRegularFile(file)) {
                return;
            }
            Properties properties = new Properties();
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                properties.load(in);
                properties.forEach((k, v) -> results.put((String) k, Result.parse((String) v)));
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "ignoring the unreadable kernel verdicts in " + file + ": " + e.getMessage());
            }
        }

        /** Runs the probes without a verdict yet, and saves what they find. */
        void ensure(List<Probe> probes, LayerPlan plan, Use use) {
            reload(); // another process may have checked meanwhile
            List<Probe> missing = probes.stream().filter(p -> !results.containsKey(p.key())).toList();
            if (missing.isEmpty()) {
                return;
            }
            LOG.log(System.Logger.Level.INFO, "checking libtorch's convolution kernels on this CPU: " + missing.size()
                    + " probes of " + plan.convolutionShapes().size() + " " + use.id() + " shapes, once per host...");
            long start = System.nanoTime();
            results.putAll(ProbeRunner.run(missing));
            LOG.log(System.Logger.Level.INFO, String.format(Locale.ROOT, "kernel check done in %.1f s",
                    (System.nanoTime() - start) / 1e9));
            save();
        }

        private void save() {
            if (file == null) {
                return;
            }
            try {
                Files.createDirectories(file.getParent());
                Path temporary = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
                try (Writer out = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
                    out.write("# Petal's kernel self-check (docs/engine.md): probe -> ok|wrong <relative error> <us>, crash|error <why>\n");
                    out.write("# " + hostDescription().replace('\n', ' ') + "\n");
                    for (Map.Entry<String, Result> e : results.entrySet()) {
                        out.write(e.getKey() + "=" + e.getValue().format() + "\n");
                    }
                }
                try {
                    Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot keep the kernel verdicts in " + file + " (" + e.getMessage()
                        + "); the next process checks again");
            }
        }
    }

    /**
     * Where verdicts are kept: the system property {@code petal.kernel-check.cache-dir}, else
     * {@code $PETAL_CACHE_DIR/kernel-check}, else {@code $XDG_CACHE_HOME/petal/kernel-check} or
     * {@code ~/.cache/petal/kernel-check}; the temporary folder when that cannot be written; null when nothing can.
     */
    static Path cacheDirectory() {
        List<Path> candidates = new ArrayList<>();
        String property = System.getProperty("petal.kernel-check.cache-dir");
        if (property != null && !property.isBlank()) {
            candidates.add(Path.of(property));
        } else {
            String petal = System.getenv("PETAL_CACHE_DIR");
            String xdg = System.getenv("XDG_CACHE_HOME");
            if (petal != null && !petal.isBlank()) {
                candidates.add(Path.of(petal, "kernel-check"));
            } else if (xdg != null && !xdg.isBlank()) {
                candidates.add(Path.of(xdg, "petal", "kernel-check"));
            } else {
                candidates.add(Path.of(System.getProperty("user.home"), ".cache", "petal", "kernel-check"));
            }
            candidates.add(Path.of(System.getProperty("java.io.tmpdir"), "petal-kernel-check-" + System.getProperty("user.name")));
        }
        for (Path dir : candidates) {
            try {
                Files.createDirectories(dir);
                if (Files.isWritable(dir)) {
                    return dir;
                }
            } catch (IOException | SecurityException e) {
                // try the next one
            }
        }
        LOG.log(System.Logger.Level.WARNING, "no writable folder for the kernel verdicts (" + candidates
                + "); every process checks again");
        return null;
    }

    /**
     * What the verdicts depend on: the CPU (model and flags), whether the OS shows its caches, the
     * oneDNN settings of the environment, and the libtorch version.
     */
    static String hostDescription() {
        StringBuilder d = new StringBuilder(FORMAT).append('\n');
        d.append("libtorch ").append(PyTorchEngine.get().getVersion()).append('\n');
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            lines.takeWhile(l -> !l.isBlank())
                    .filter(l -> l.matches("(vendor_id|cpu family|model|model name|stepping|flags)\\s*:.*"))
                    .forEach(l -> d.append(l.replaceAll("\\s+", " ")).append('\n'));
        } catch (IOException | UncheckedIOException e) {
            d.append(System.getProperty("os.arch")).append('\n');
        }
        d.append("cpus ").append(Runtime.getRuntime().availableProcessors()).append('\n');
        Path caches = Path.of("/sys/devices/system/cpu/cpu0/cache");
        d.append("caches visible ").append(Files.isDirectory(caches)).append('\n');
        for (String name : List.of("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ONEDNN_CPU_ISA_HINTS", "DNNL_CPU_ISA_HINTS")) {
            String value = System.getenv(name);
            if (value != null) {
                d.append(name).append('=').append(value).append('\n');
            }
        }
        return d.toString();
    }

    static String hostKey() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(hostDescription().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JVM has SHA-256
        }
    }

    /** Runs probes in child JVMs, starting a new child after one dies, and blames the probe it died in. */
    static final class ProbeRunner {
        private ProbeRunner() {}

        static Map<String, Result> run(List<Probe> probes) {
            Map<String, Result> results = new LinkedHashMap<>();
            Deque<String> remaining = new ArrayDeque<>(probes.stream().map(Probe::key).toList());
            while (!remaining.isEmpty()) {
                runChild(remaining, results);
            }
            return results;
        }

        private static void runChild(Deque<String> remaining, Map<String, Result> results) {
            List<String> options = new ArrayList<>(List.of("-Xmx1g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Dai.djl.offline=true", "-XX:ErrorFile=" + System.getProperty("java.io.tmpdir") + "/petal-kernel-probe-hs_err_%p.log"));
            String inject = System.getProperty(KernelProbe.INJECT_CRASH);
            if (inject != null) {
                options.add("-D" + KernelProbe.INJECT_CRASH + "=" + inject);
            }
            List<String> command = ChildJvm.command(KernelProbe.class, options, List.copyOf(remaining));
            Process process;
            try {
                process = new ProcessBuilder(command).start();
            } catch (IOException e) {
                throw new IllegalStateException("cannot start the kernel check's child JVM (" + e.getMessage() + ")", e);
            }
            Deque<String> errors = new ArrayDeque<>();
            Thread drain = daemon("kernel-check-stderr", () -> keepTail(process.getErrorStream(), errors));
            // A hung child must not hang this process: the watchdog ends it, and its probe counts as crashed.
            Thread watchdog = daemon("kernel-check-watchdog", () -> {
                try {
                    if (!process.waitFor(CHILD_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                        process.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    process.destroyForcibly();
                }
            });
            String current = null;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.startsWith("BEGIN ")) {
                        current = line.substring(6).strip();
                    } else if (line.startsWith("RESULT ")) {
                        String[] parts = line.substring(7).split(" ", 2);
                        results.put(parts[0], Result.parse(parts[1]));
                        remaining.remove(parts[0]);
                        current = null;
                    }
                }
                process.waitFor();
                watchdog.interrupt();
                drain.join(TimeUnit.SECONDS.toMillis(5));
            } catch (IOException e) {
                process.destroyForcibly();
                throw new UncheckedIOException("lost the kernel check's child JVM", e);
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while checking kernels", e);
            }
            int exit = process.exitValue();
            if (current != null) {
                results.put(current, new Result("crash", Double.NaN, -1, exit > 128 ? "signal " + (exit - 128) : "exit " + exit));
                remaining.remove(current);
            } else if (!remaining.isEmpty()) {
                String tail;
                synchronized (errors) {
                    tail = errors.stream().collect(Collectors.joining(" | "));
                }
                throw new IllegalStateException("the kernel check's child JVM ended (exit " + exit + ") before its probes: " + tail);
            }
        }

        private static Thread daemon(String name, Runnable body) {
            Thread thread = new Thread(body, name);
            thread.setDaemon(true);
            thread.start();
            return thread;
        }

        private static void keepTail(InputStream stream, Deque<String> tail) {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    synchronized (tail) {
                        tail.addLast(line);
                        if (tail.size() > 5) {
                            tail.removeFirst();
                        }
                    }
                }
            } catch (IOException e) {
                // the child is gone
            }
        }
    }
}
