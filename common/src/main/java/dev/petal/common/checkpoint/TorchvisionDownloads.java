package dev.petal.common.checkpoint;

import dev.petal.common.model.Architecture;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * torchvision's ImageNet-1K V1 ResNet weights: the file torchvision publishes for each depth, and the
 * local cache where {@code ./petal weights fetch} puts them and {@code torchvision:<arch>} finds them.
 * Each file name carries the first hex digits of the file's sha256, which is how torch.hub checks a
 * download, and how Petal checks it.
 */
public final class TorchvisionDownloads {
    /** Where torchvision's {@code models/resnet.py} points its weights. */
    public static final String BASE_URL = "https://download.pytorch.org/models/";
    /** How a training run names cached weights: {@code torchvision:resnet50}. */
    public static final String SCHEME = "torchvision:";

    /** ResNet*_Weights (and ResNeXt50_32X4D_, Wide_ResNet50_2_Weights).IMAGENET1K_V1 in torchvision 0.14 models/resnet.py. */
    private static final Map<Architecture, String> FILES = new EnumMap<>(Map.of(
            Architecture.RESNET18, "resnet18-f37072fd.pth",
            Architecture.RESNET34, "resnet34-b627a593.pth",
            Architecture.RESNET50, "resnet50-0676ba61.pth",
            Architecture.RESNET101, "resnet101-63fe2227.pth",
            Architecture.RESNET152, "resnet152-394f9c45.pth",
            Architecture.RESNEXT50_32X4D, "resnext50_32x4d-7cdf4587.pth",
            Architecture.WIDE_RESNET50_2, "wide_resnet50_2-95faca4d.pth"));
    private static final Pattern HASH_PREFIX = Pattern.compile("-([0-9a-f]{6,64})\\.[A-Za-z]+$");

    private TorchvisionDownloads() {}

    public static String fileName(Architecture arch) {
        return FILES.get(arch);
    }

    public static URI url(String baseUrl, String fileName) {
        return URI.create(baseUrl.endsWith("/") ? baseUrl + fileName : baseUrl + "/" + fileName);
    }

    /** The sha256 prefix a file name promises ({@code resnet18-f37072fd.pth}: {@code f37072fd}). */
    public static String hashPrefix(String fileName) {
        Matcher m = HASH_PREFIX.matcher(fileName);
        if (!m.find()) {
            throw new IllegalArgumentException(fileName + " carries no sha256 prefix (name-<hex>.<ext>)");
        }
        return m.group(1);
    }

    /**
     * {@code $PETAL_CACHE_DIR/weights} when that is set, else {@code $XDG_CACHE_HOME/petal/weights}, else
     * {@code ~/.cache/petal/weights}.
     */
    public static Path cacheDir() {
        return cacheDir(System.getenv(), System.getProperty("user.home"));
    }

    static Path cacheDir(Map<String, String> env, String home) {
        String petal = env.get("PETAL_CACHE_DIR");
        if (petal != null && !petal.isBlank()) {
            return Path.of(petal, "weights");
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && Path.of(xdg).isAbsolute()) { // the XDG spec says to ignore a relative path
            return Path.of(xdg, "petal", "weights");
        }
        return Path.of(home, ".cache", "petal", "weights");
    }

    public static boolean isReference(String location) {
        return location != null && location.startsWith(SCHEME);
    }

    /** The architecture of {@code torchvision:<arch>}; an unknown one is an IllegalArgumentException listing the valid. */
    public static Architecture architectureOf(String reference) {
        return Architecture.parse(reference.substring(SCHEME.length()));
    }

    /** The cached file of {@code torchvision:<arch>} in the default cache. */
    public static Path resolve(String reference) {
        return resolve(reference, cacheDir());
    }

    /**
     * The file of {@code torchvision:<arch>} in {@code cacheDir}.
     *
     * @throws IllegalArgumentException when the architecture is unknown or its file has not been fetched
     */
    public static Path resolve(String reference, Path cacheDir) {
        Architecture arch = architectureOf(reference);
        Path file = cacheDir.resolve(fileName(arch));
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(reference + ": " + file + " is not there; run ./petal weights fetch "
                    + arch.id() + " first (needs internet), or pass --init-weights FILE.pth");
        }
        return file;
    }
}
