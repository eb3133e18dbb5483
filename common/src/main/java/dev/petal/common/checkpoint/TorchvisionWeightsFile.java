package dev.petal.common.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Torchvision-named weights from a file of either kind Petal reads: safetensors, or what torch.save
 * writes ({@code .pth}/{@code .pt}, read by {@link TorchSaveReader} without running its pickle). The
 * content decides the kind (a zip header, or a safetensors header length followed by JSON); the
 * extension decides only for content that is neither, so that the error speaks of the kind meant.
 */
public final class TorchvisionWeightsFile {
    /** The two file kinds. */
    public enum Kind { SAFETENSORS, TORCH_SAVE }

    public static final List<String> EXTENSIONS = List.of(".safetensors", ".pth", ".pt");

    private TorchvisionWeightsFile() {}

    /** {@code location}: a file, or {@code torchvision:<arch>} for torchvision's ImageNet weights in the local cache. */
    public static SafeTensors read(String location) throws IOException {
        return read(locate(location));
    }

    /**
     * The file {@code location} names.
     *
     * @throws IllegalArgumentException for {@code torchvision:<arch>} when that file has not been fetched
     */
    public static Path locate(String location) {
        return TorchvisionDownloads.isReference(location) ? TorchvisionDownloads.resolve(location) : Path.of(location);
    }

    /**
     * The tensors of a weights file, by torchvision name.
     *
     * @throws CheckpointIntegrityException when the file is of neither kind, malformed, or (torch.save) names anything
     *     a state_dict does not
     */
    public static SafeTensors read(Path file) throws IOException {
        return switch (kindOf(file)) {
            case SAFETENSORS -> SafeTensors.read(Files.readAllBytes(file));
            case TORCH_SAVE -> TorchSaveReader.read(file);
        };
    }

    /** Which reader {@code file} needs, by its first bytes, else by its extension. */
    public static Kind kindOf(Path file) throws IOException {
        byte[] head = new byte[9];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return Kind.TORCH_SAVE;
        }
        if (n == head.length && head[8] == '{') {
            long headerLength = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength > 0 && headerLength <= Files.size(file) - 8) {
                return Kind.SAFETENSORS;
            }
        }
        String name = String.valueOf(file.getFileName()).toLowerCase(Locale.ROOT);
        if (name.endsWith(".safetensors")) {
            return Kind.SAFETENSORS; // its reader says what is wrong
        }
        if (name.endsWith(".pth") || name.endsWith(".pt") || (n >= 1 && (head[0] & 0xFF) == 0x80)) {
            return Kind.TORCH_SAVE; // the legacy format is a bare pickle; its reader refuses it by name
        }
        throw new CheckpointIntegrityException(file.getFileName() + " is neither safetensors nor a torch.save archive (.pth, .pt)");
    }

    /** Whether a file name ends in one of {@link #EXTENSIONS}, any case. */
    public static boolean hasWeightsExtension(String fileName) {
        String lower = fileName.toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(lower::endsWith);
    }

    /** The file name without its weights extension: {@code resnet18-f37072fd.pth} is {@code resnet18-f37072fd}. */
    public static String stem(Path file) {
        String name = String.valueOf(file.getFileName());
        for (String extension : EXTENSIONS) {
            if (name.toLowerCase(Locale.ROOT).endsWith(extension)) {
                return name.substring(0, name.length() - extension.length());
            }
        }
        return name;
    }
}
