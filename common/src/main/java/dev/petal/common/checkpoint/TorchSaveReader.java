package dev.petal.common.checkpoint;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a state_dict that {@code torch.save} wrote (torchvision's {@code .pth} files) into {@link SafeTensors},
 * tensors by name, without running anything the file says: the pickle goes through {@link TorchPickle}.
 *
 * <p>The format (PyTorch 1.6 and later) is a zip of {@code <archive>/data.pkl} (the pickled dict, whose
 * tensors point at storages by key), {@code <archive>/data/<key>} (each storage's raw bytes),
 * {@code <archive>/version} and, from PyTorch 2.1, {@code <archive>/byteorder}. Floating-point tensors
 * (float32, float16, bfloat16, float64) become float32 values; integer ones (torchvision's int64
 * {@code num_batches_tracked}) are listed without values, as {@link SafeTensors} lists them.
 */
public final class TorchSaveReader {
    /** torchvision's pickles are tens of KB; refuse absurd ones instead of reading them into memory. */
    static final int MAX_PICKLE_BYTES = 16 << 20;
    /** Deflate expands at most about 1032 to 1: a larger claim is a lie, refused before any allocation. */
    private static final long MAX_DEFLATE_RATIO = 1032;
    /** A tensor's values go into one float array. */
    static final long MAX_TENSOR_ELEMENTS = Integer.MAX_VALUE - 8;
    private static final int CHUNK_ELEMENTS = 1 << 14;

    private TorchSaveReader() {}

    /**
     * The tensors of a torch.save file, by name, in the file's order.
     *
     * @throws CheckpointIntegrityException when the file is not a torch.save zip archive of a state_dict, or names
     *     anything a state_dict does not
     * @throws IOException when the file cannot be read
     */
    public static SafeTensors read(Path file) throws IOException {
        String name = String.valueOf(file.getFileName());
        requireZipArchive(file, name);
        try (ZipFile zip = new ZipFile(file.toFile())) {
            String archive = archiveName(zip, name);
            checkByteOrder(zip, archive, name);
            checkVersion(zip, archive, name);
            Object root = TorchPickle.load(readSmall(zip, archive + "/data.pkl", name), name);
            if (!(root instanceof Map<?, ?> dict)) {
                throw new CheckpointIntegrityException(name + " holds a " + TorchPickle.typeName(root)
                        + ", not a state_dict (a dict of tensors)");
            }
            Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : dict.entrySet()) {
                if (!(entry.getKey() instanceof String key)) {
                    throw new CheckpointIntegrityException(name + " is not a state_dict: it has a key " + entry.getKey()
                            + " that is not a string");
                }
                if (!(entry.getValue() instanceof TorchPickle.TensorRef tensor)) {
                    throw new CheckpointIntegrityException(name + " is not a state_dict: '" + key + "' holds a "
                            + TorchPickle.typeName(entry.getValue()) + ", not a tensor"
                            + (entry.getValue() instanceof Map<?, ?> ? " (a training checkpoint? save the model's state_dict"
                                    + " alone: torch.save(checkpoint['" + key + "'], 'weights.pth'))" : ""));
                }
                tensors.put(key, tensor(zip, archive, name, key, tensor));
            }
            return new SafeTensors(tensors, Map.of());
        } catch (ZipException e) {
            throw new CheckpointIntegrityException(name + " is not a readable zip archive: " + e.getMessage(), e);
        }
    }

    /** torch.save before PyTorch 1.6 (or with _use_new_zipfile_serialization=False) wrote bare pickles. */
    private static void requireZipArchive(Path file, String name) throws IOException {
        byte[] head = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        boolean zip = n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
        if (zip) {
            return;
        }
        if (n >= 1 && (head[0] & 0xFF) == 0x80) {
            throw new CheckpointIntegrityException(name + " is in torch.save's legacy format (PyTorch before 1.6, or"
                    + " _use_new_zipfile_serialization=False), which Petal does not read: re-save it with a current"
                    + " torch.save, or convert it to .safetensors");
        }
        throw new CheckpointIntegrityException(name + " is not a torch.save archive (no zip header)");
    }

    /** The one top-level folder holding {@code data.pkl}: torch.save names it after the file. */
    private static String archiveName(ZipFile zip, String name) {
        List<String> archives = new ArrayList<>();
        boolean torchScript = false;
        for (Enumeration<? extends ZipEntry> entries = zip.entries(); entries.hasMoreElements(); ) {
            String entry = entries.nextElement().getName();
            int slash = entry.indexOf('/');
            if (slash > 0 && entry.substring(slash + 1).equals("data.pkl")) {
                archives.add(entry.substring(0, slash));
            }
            torchScript |= slash > 0 && (entry.startsWith("code/", slash + 1) || entry.endsWith("/constants.pkl"));
        }
        if (torchScript) {
            throw new CheckpointIntegrityException(name + " is a TorchScript program (torch.jit.save), not a state_dict;"
                    + " save model.state_dict() with torch.save instead");
        }
        if (archives.size() != 1) {
            throw new CheckpointIntegrityException(name + " is not a torch.save archive: expected one <archive>/data.pkl,"
                    + " found " + archives.size());
        }
        return archives.get(0);
    }

    private static void checkByteOrder(ZipFile zip, String archive, String name) throws IOException {
        ZipEntry entry = zip.getEntry(archive + "/byteorder");
        if (entry == null) {
            return; // written from PyTorch 2.1 on; before, storages were always little-endian
        }
        String order = new String(readSmall(zip, entry.getName(), name), StandardCharsets.US_ASCII).trim();
        if (!order.equals("little")) {
            throw new CheckpointIntegrityException(name + " stores its tensors " + order + "-endian; Petal reads"
                    + " little-endian files only (re-save it on a little-endian machine)");
        }
    }

    private static void checkVersion(ZipFile zip, String archive, String name) throws IOException {
        if (zip.getEntry(archive + "/version") == null) {
            throw new CheckpointIntegrityException(name + " is not a torch.save archive: it has no " + archive + "/version");
        }
        String version = new String(readSmall(zip, archive + "/version", name), StandardCharsets.US_ASCII).trim();
        if (!version.matches("[1-9][0-9]{0,3}")) {
            throw new CheckpointIntegrityException(name + " has an unknown torch.save format version '" + version + "'");
        }
    }

    /** A small entry (the pickle, the version), read whole but never beyond {@link #MAX_PICKLE_BYTES}. */
    private static byte[] readSmall(ZipFile zip, String entryName, String name) throws IOException {
        ZipEntry entry = zip.getEntry(entryName);
        if (entry == null) {
            throw new CheckpointIntegrityException(name + " lacks " + entryName);
        }
        try (InputStream in = zip.getInputStream(entry)) {
            byte[] bytes = in.readNBytes(MAX_PICKLE_BYTES + 1);
            if (bytes.length > MAX_PICKLE_BYTES) {
                throw new CheckpointIntegrityException(name + ": " + entryName + " is larger than "
                        + (MAX_PICKLE_BYTES >> 20) + " MiB; a state_dict's pickle is a few KB");
            }
            return bytes;
        }
    }

    /** One tensor's values: checks its shape, strides and storage, then converts what it covers. */
    private static SafeTensors.Tensor tensor(ZipFile zip, String archive, String name, String key, TorchPickle.TensorRef t)
            throws IOException {
        TorchPickle.StorageRef storage = t.storage();
        TorchDtype dtype = storage.dtype();
        String what = name + ": tensor '" + key + "'";
        long count = 1;
        try {
            for (long d : t.shape()) {
                count = Math.multiplyExact(count, d);
            }
        } catch (ArithmeticException e) {
            throw new CheckpointIntegrityException(what + " has an impossible shape " + Arrays.toString(t.shape()));
        }
        if (count > MAX_TENSOR_ELEMENTS) {
            throw new CheckpointIntegrityException(what + " has " + count + " elements, more than Petal reads into one tensor");
        }
        if (count > 0 && !isContiguous(t.shape(), t.stride())) {
            throw new CheckpointIntegrityException(what + " is not contiguous (shape " + Arrays.toString(t.shape())
                    + ", strides " + Arrays.toString(t.stride()) + "); save tensor.contiguous() instead");
        }
        long end = Math.addExact(t.offset(), count);
        if (end > storage.elements()) {
            throw new CheckpointIntegrityException(what + " needs elements " + t.offset() + " to " + end + " of storage "
                    + storage.key() + ", which holds " + storage.elements());
        }
        String entryName = archive + "/data/" + storage.key();
        ZipEntry entry = zip.getEntry(entryName);
        if (entry == null) {
            throw new CheckpointIntegrityException(what + " points at storage " + storage.key() + ", which the archive lacks");
        }
        long storageBytes = Math.multiplyExact(storage.elements(), (long) dtype.width());
        if (entry.getSize() >= 0 && entry.getSize() < storageBytes) {
            throw new CheckpointIntegrityException(what + ": storage " + storage.key() + " has " + entry.getSize()
                    + " bytes, its " + storage.elements() + " " + dtype.safetensorsName() + " elements need " + storageBytes);
        }
        long stored = entry.getMethod() == ZipEntry.STORED ? storageBytes : storageBytes / MAX_DEFLATE_RATIO;
        if (stored > entry.getCompressedSize()) { // torch.save stores storages uncompressed
            throw new CheckpointIntegrityException(what + ": storage " + storage.key() + " claims " + storageBytes
                    + " bytes but occupies " + entry.getCompressedSize() + " in the archive");
        }
        if (!dtype.isFloatingPoint()) {
            return new SafeTensors.Tensor(dtype.safetensorsName(), t.shape().clone(), null);
        }
        float[] values = new float[(int) count];
        try (InputStream in = zip.getInputStream(entry)) {
            in.skipNBytes(t.offset() * dtype.width());
            byte[] chunk = new byte[CHUNK_ELEMENTS * dtype.width()];
            ByteBuffer buffer = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
            for (int done = 0; done < values.length; ) {
                int n = Math.min(CHUNK_ELEMENTS, values.length - done);
                int read = in.readNBytes(chunk, 0, n * dtype.width());
                if (read < n * dtype.width()) {
                    throw new EOFException();
                }
                for (int i = 0; i < n; i++) {
                    values[done + i] = dtype.floatAt(buffer, i);
                }
                done += n;
            }
        } catch (EOFException e) {
            throw new CheckpointIntegrityException(what + ": storage " + storage.key() + " ends before the tensor's"
                    + " elements " + t.offset() + " to " + end, e);
        }
        return new SafeTensors.Tensor(dtype.safetensorsName(), t.shape().clone(), values);
    }

    /** Row-major with no gaps; a dimension of size 1 may have any stride, as in torch. */
    static boolean isContiguous(long[] shape, long[] stride) {
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }
}
