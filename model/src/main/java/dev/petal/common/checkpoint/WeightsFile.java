package dev.petal.common.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.model.LayerPlan;
import dev.petal.common.model.ModelParameters;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's weights as a safetensors file (F32, torchvision's names and order): what PyTorch reads
 * with {@code safetensors.torch.load_file} into a torchvision ResNet, and what Petal streams in and out
 * without holding the weights on the Java heap. Reading checks every name, shape and byte count
 * against the model's {@link LayerPlan}.
 */
public final class WeightsFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER_BYTES = 16L * 1024 * 1024;

    private WeightsFile() {}

    /** Writes {@code params} as F32 safetensors, streamed a tensor at a time. Does not close {@code to}. */
    public static void write(ModelParameters params, OutputStream to) {
        try {
            OutputStream out = new BufferedOutputStream(to, 1 << 16);
            Map<String, Object> header = new LinkedHashMap<>();
            long offset = 0;
            for (Map.Entry<String, NDArray> e : params.arrays().entrySet()) {
                long bytes = Math.multiplyExact(e.getValue().getShape().size(), 4L);
                Map<String, Object> spec = new LinkedHashMap<>();
                spec.put("dtype", "F32");
                spec.put("shape", e.getValue().getShape().getShape());
                spec.put("data_offsets", new long[] {offset, offset + bytes});
                header.put(e.getKey(), spec);
                offset += bytes;
            }
            byte[] json = JSON.writeValueAsBytes(header);
            int padded = (json.length + 7) / 8 * 8; // the data starts 8-byte aligned; the header is padded with spaces
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(length.array());
            out.write(json);
            for (int i = json.length; i < padded; i++) {
                out.write(' ');
            }
            if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                throw new IllegalStateException("big-endian hosts are not supported");
            }
            WritableByteChannel channel = Channels.newChannel(out);
            for (NDArray array : params.arrays().values()) {
                // Flattened, the values come in row-major order whatever layout training left the array in
                // (a channels-last weight is copied; a default-layout one is only viewed).
                try (NDArray flat = array.reshape(-1)) {
                    ByteBuffer data = flat.toByteBuffer();
                    while (data.hasRemaining()) {
                        channel.write(data);
                    }
                }
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the weights: " + e.getMessage(), e);
        }
    }

    public static byte[] toBytes(ModelParameters params) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(params, out);
        return out.toByteArray();
    }

    /**
     * Reads weights written by {@link #write} (or any F32 safetensors file in torchvision's names for
     * this plan) into parameters in a sub-manager of {@code parent}, each tensor streamed through one
     * reused direct buffer into memory libtorch owns. Does not close {@code in}.
     *
     * @throws CheckpointIntegrityException when the file is malformed or does not fit the plan
     */
    public static ModelParameters read(LayerPlan plan, NDManager parent, InputStream in) {
        DataInputStream data = new DataInputStream(new BufferedInputStream(in, 1 << 16));
        List<Entry> entries = header(data);
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        NDManager scratch = parent.newSubManager();
        try {
            byte[] chunk = new byte[1 << 16];
            ByteBuffer staging = ByteBuffer.allocateDirect(0);
            long position = 0;
            for (Entry entry : entries) {
                if (entry.begin != position) {
                    throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHAPE,
                            "weights entry " + entry.name + " does not follow the one before it");
                }
                int length = Math.toIntExact(entry.end - entry.begin);
                if (staging.capacity() < length) {
                    staging = ByteBuffer.allocateDirect(length).order(ByteOrder.LITTLE_ENDIAN);
                }
                staging.clear();
                for (int left = length; left > 0; ) {
                    int n = Math.min(left, chunk.length);
                    data.readFully(chunk, 0, n);
                    staging.put(chunk, 0, n);
                    left -= n;
                }
                staging.flip();
                try (NDArray aliased = scratch.create(staging, new Shape(entry.shape), DataType.FLOAT32)) {
                    arrays.put(entry.name, aliased.duplicate()); // owned by libtorch: freed when closed, not at a GC
                }
                position = entry.end;
            }
            return ModelParameters.of(plan, parent, arrays);
        } catch (EOFException e) {
            throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHAPE, "the weights file ends early", e);
        } catch (IllegalArgumentException e) {
            throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHAPE,
                    "weights do not fit the model: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the weights: " + e.getMessage(), e);
        } finally {
            scratch.close();
        }
    }

    private record Entry(String name, long[] shape, long begin, long end) {}

    private static List<Entry> header(DataInputStream in) {
        try {
            byte[] lengthBytes = new byte[8];
            in.readFully(lengthBytes);
            long length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (length <= 0 || length > MAX_HEADER_BYTES) {
                throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHAPE,
                        "not a safetensors weights file (header length " + length + ")");
            }
            byte[] json = new byte[(int) length];
            in.readFully(json);
            Map<String, Object> header = JSON.readValue(new String(json, StandardCharsets.UTF_8),
                    new TypeReference<LinkedHashMap<String, Object>>() {});
            List<Entry> entries = new ArrayList<>();
            for (Map.Entry<String, Object> e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    continue;
                }
                if (!(e.getValue() instanceof Map<?, ?> spec) || !"F32".equals(spec.get("dtype"))
                        || !(spec.get("shape") instanceof List<?> shape) || !(spec.get("data_offsets") instanceof List<?> offsets)
                        || offsets.size() != 2) {
                    throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHAPE,
                            "weights entry " + e.getKey() + " is not an F32 tensor with a shape and data offsets");
                }
                long[] dims = new long[shape.size()];
                long count = 1;
                for (int i = 0; i < dims.length; i++) {
                    dims[i] = ((Number) shape.get(i)).longValue();
                    if (dims[i] < 0) {
                        throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHAPE,
                                "weights entry " + e.getKey() + " has a negative dimension");
                    }
                    count = Math.multiplyExact(count, dims[i]);
                }
                long begin = ((Number) offsets.get(0)).longValue();
                long end = ((Number) offsets.get(1)).longValue();
                if (begin < 0 || end - begin != Math.multiplyExact(count, 4L)) {
                    throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHAPE, "weights entry " + e.getKey()
                            + " of shape " + Arrays.toString(dims) + " has " + (end - begin) + " bytes");
                }
                entries.add(new Entry(e.getKey(), dims, begin, end));
            }
            entries.sort((a, b) -> Long.compare(a.begin, b.begin));
            return entries;
        } catch (CheckpointIntegrityException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHAPE,
                    "not a safetensors weights file: " + e.getMessage(), e);
        }
    }
}
