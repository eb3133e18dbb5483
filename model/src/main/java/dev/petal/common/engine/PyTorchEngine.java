package dev.petal.common.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.petal.common.model.Precision;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import java.io.InputStream;
import java.net.URL;
import java.util.Locale;
import java.util.Properties;

/**
 * Loads DJL's PyTorch engine from the libtorch bundled on the classpath, never from the network.
 * Every Petal process calls {@link #get()} before touching an NDArray.
 */
public final class PyTorchEngine {
    private static final String NATIVE_PROPERTIES = "native/lib/pytorch.properties";

    private PyTorchEngine() {}

    /** The engine, loaded once; throws {@link IllegalStateException} with a fix when it can't load. */
    public static synchronized Engine get() {
        // DJL would otherwise try to download libtorch or report usage when the bundled one is missing.
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        String bundled = bundledClassifier();
        String here = platformClassifier();
        if (bundled == null && System.getenv("PYTORCH_LIBRARY_PATH") == null) {
            throw new IllegalStateException(missingNativeMessage(here, "no libtorch is bundled"));
        }
        if (bundled != null && !bundled.equals(here) && System.getenv("PYTORCH_LIBRARY_PATH") == null) {
            throw new IllegalStateException(missingNativeMessage(here, "the bundled libtorch is for " + bundled));
        }
        try {
            return Engine.getEngine("PyTorch");
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw new IllegalStateException(missingNativeMessage(here, "libtorch failed to load: " + e.getMessage()), e);
        }
    }

    /** Resolves {@code cpu|gpu|auto}; gpu fails clearly when no CUDA build of libtorch is loaded. */
    public static Device device(String requested) {
        Engine engine = get();
        String choice = requested == null ? "auto" : requested.toLowerCase(Locale.ROOT);
        int gpus = engine.getGpuCount();
        switch (choice) {
            case "cpu":
                return Device.cpu();
            case "gpu":
                if (gpus == 0) {
                    throw new IllegalStateException("--device gpu was asked for, but the loaded libtorch ("
                            + engine.getVersion() + ", " + bundledFlavor() + ") sees no CUDA GPU; on a GPU machine "
                            + "put ai.djl.pytorch:pytorch-native-cu<version> on the classpath or set "
                            + "PYTORCH_FLAVOR=cu<version> with network access (see docs/engine.md).");
                }
                return Device.gpu();
            case "auto":
                return gpus > 0 ? Device.gpu() : Device.cpu();
            default:
                throw new IllegalArgumentException("unknown device '" + requested + "'; choose cpu, gpu or auto");
        }
    }

    /**
     * Why {@code precision} would cost here, or empty, from the CPU's flags in {@code /proc/cpuinfo}: bf16 on an x86 CPU
     * without AVX-512 BF16 or AMX (libtorch emulates bfloat16, slower than fp32); int8 on one without VNNI or AMX (ONNX
     * Runtime's uint8-by-int8 kernels fall back to AVX2's saturating multiply-add, which gains less and can cost
     * accuracy); int8 on one with AMX-BF16 (libtorch's bf16 on AMX tiles can be the faster of the two there). Empty for
     * fp32, on a GPU, and where the flags cannot be read.
     */
    public static Optional<String> precisionCaveat(Precision precision, Device device) {
        if (device.isGpu() || precision == Precision.FP32) {
            return Optional.empty();
        }
        Set<String> flags = cpuFlags();
        return flags.isEmpty() ? Optional.empty() : precisionCaveat(precision, flags); // empty: not Linux, nothing known
    }

    /** The CPU's flags (avx512_bf16, amx_int8, ...) from /proc/cpuinfo; none where they cannot be read (not Linux). */
    public static Set<String> cpuFlags() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("flags")).findFirst().map(PyTorchEngine::flags).orElse(Set.of());
        } catch (IOException | UncheckedIOException e) {
            return Set.of();
        }
    }

    /** {@link #precisionCaveat(Precision, Device)} for a CPU with this {@code flags} line of /proc/cpuinfo. */
    static Optional<String> precisionCaveat(Precision precision, String cpuFlags) {
        return precisionCaveat(precision, flags(cpuFlags));
    }

    private static Set<String> flags(String cpuinfoLine) {
        return Set.copyOf(Arrays.asList(cpuinfoLine.split("\\s+")));
    }

    private static Optional<String> precisionCaveat(Precision precision, Set<String> flags) {
        return switch (precision) {
            case FP32 -> Optional.empty();
            case BF16 -> flags.contains("avx512_bf16") || flags.contains("amx_bf16") ? Optional.empty()
                    : Optional.of("this CPU has neither AVX-512 BF16 nor AMX: libtorch emulates bf16 here, slower than fp32; use fp32"
                            + " on this machine");
            case INT8 -> !(flags.contains("avx512_vnni") || flags.contains("avx_vnni") || flags.contains("amx_int8"))
                    ? Optional.of("this CPU has neither VNNI nor AMX: ONNX Runtime's int8 kernels use AVX2's saturating multiply-add"
                            + " here, which gains less over fp32 and can cost accuracy; check with ./petal precision-check")
                    : flags.contains("amx_bf16")
                    ? Optional.of("this CPU has AMX-BF16, where bf16 can outrun int8 at fp32's accuracy; compare them on this model"
                            + " with ./petal precision-check")
                    : Optional.empty();
        };
    }

    static String platformClassifier() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String osPart = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "osx" : os.startsWith("win") ? "win" : os;
        String archPart = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("arm64") ? "aarch64" : arch;
        return osPart + "-" + archPart;
    }

    private static Properties bundledProperties() {
        URL url = PyTorchEngine.class.getClassLoader().getResource(NATIVE_PROPERTIES);
        if (url == null) {
            return null;
        }
        Properties props = new Properties();
        try (InputStream in = url.openStream()) {
            props.load(in);
            return props;
        } catch (IOException e) {
            return null;
        }
    }

    static String bundledClassifier() {
        Properties props = bundledProperties();
        return props == null ? null : props.getProperty("classifier");
    }

    private static String bundledFlavor() {
        Properties props = bundledProperties();
        return props == null ? "none" : props.getProperty("flavor", "unknown");
    }

    static String missingNativeMessage(String platform, String why) {
        return "Cannot start the PyTorch engine on " + platform + " (" + why + "): add the Maven dependency "
                + "ai.djl.pytorch:pytorch-native-cpu:2.7.1 with classifier " + platform
                + " (or pytorch-native-cu<version> for a CUDA GPU, or set PYTORCH_LIBRARY_PATH to a libtorch 2.7.1 "
                + "folder) and rebuild; see docs/engine.md.";
    }
}
