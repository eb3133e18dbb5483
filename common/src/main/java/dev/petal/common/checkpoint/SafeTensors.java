package dev.petal.common.checkpoint;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors file format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * of {@code name -> {dtype, shape, data_offsets}} plus optional string {@code __metadata__}, then
 * the raw little-endian tensor data. Reads F32, F16, BF16 and F64 as floats; integer tensors (such
 * as torchvision's {@code num_batches_tracked}) are listed but not converted. Writes F32.
 *
 * <p>No code runs from the file: it is a length, JSON and numbers, all bounds-checked.
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String METADATA = "__metadata__";
    /** Torchvision headers are a few KB; refuse absurd ones instead of allocating them. */
    private static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** One tensor: its dtype as written, shape, and values as floats ({@code null} for integer dtypes). */
    public record Tensor(String dtype, long[] shape, float[] values) {
        public long size() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        public static Tensor of(long[] shape, float[] values) {
            Tensor t = new Tensor("F32", shape.clone(), values);
            if (t.size() != values.length) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + t.size()
                        + " values, got " + values.length);
            }
            return t;
        }
    }

    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    public SafeTensors(Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata == null ? Map.of() : metadata));
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public Tensor get(String name) {
        return tensors.get(name);
    }

    /** Parses a safetensors file; a malformed file is a {@link CheckpointIntegrityException}. */
    public static SafeTensors read(byte[] file) {
        if (file.length < 8) {
            throw new CheckpointIntegrityException("not a safetensors file: " + file.length + " bytes");
        }
        long headerLength = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > file.length - 8) {
            throw new CheckpointIntegrityException("not a safetensors file: header length " + headerLength
                    + " in a file of " + file.length + " bytes");
        }
        Map<String, Object> header;
        try {
            header = JSON.readValue(new String(file, 8, (int) headerLength, StandardCharsets.UTF_8),
                    new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (IOException e) {
            // Where, not what: the parser's own message quotes the file's bytes.
            String where = e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null
                    ? " (line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() + ")" : "";
            throw new CheckpointIntegrityException("safetensors header is not JSON" + where, e);
        }
        int dataStart = 8 + (int) headerLength;
        long dataLength = file.length - (long) dataStart;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, Object> entry : header.entrySet()) {
            if (entry.getKey().equals(METADATA)) {
                if (entry.getValue() instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> metadata.put(String.valueOf(k), String.valueOf(v)));
                }
                continue;
            }
            tensors.put(entry.getKey(), parseTensor(entry.getKey(), entry.getValue(), file, dataStart, dataLength));
        }
        return new SafeTensors(tensors, metadata);
    }

    private static Tensor parseTensor(String name, Object spec, byte[] file, int dataStart, long dataLength) {
        if (!(spec instanceof Map<?, ?> m) || !(m.get("dtype") instanceof String dtype)
                || !(m.get("shape") instanceof List<?> shapeList) || !(m.get("data_offsets") instanceof List<?> offsets)
                || offsets.size() != 2) {
            throw new CheckpointIntegrityException("safetensors entry " + name + " lacks dtype/shape/data_offsets");
        }
        long[] shape = new long[shapeList.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Number n) || n.longValue() < 0) {
                throw new CheckpointIntegrityException("safetensors entry " + name + " has a bad shape " + shapeList);
            }
            shape[i] = n.longValue();
        }
        if (!(offsets.get(0) instanceof Number first) || !(offsets.get(1) instanceof Number last)) {
            throw new CheckpointIntegrityException("safetensors entry " + name + " has data offsets that are not numbers");
        }
        long begin = first.longValue();
        long end = last.longValue();
        if (begin < 0 || end < begin || end > dataLength) {
            throw new CheckpointIntegrityException("safetensors entry " + name + " has data offsets ["
                    + begin + ", " + end + ") outside the " + dataLength + " data bytes");
        }
        int width = switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL" -> 1;
            default -> throw new CheckpointIntegrityException("safetensors entry " + name + " has unknown dtype " + dtype);
        };
        long count = 1;
        long bytes;
        try {
            // Exact: a shape whose byte size wraps around could otherwise match a small data range.
            for (long d : shape) {
                count = Math.multiplyExact(count, d);
            }
            bytes = Math.multiplyExact(count, (long) width);
        } catch (ArithmeticException e) {
            throw new CheckpointIntegrityException("safetensors entry " + name + " has a shape " + Arrays.toString(shape)
                    + " whose size in bytes overflows");
        }
        if (bytes != end - begin) {
            throw new CheckpointIntegrityException("safetensors entry " + name + " of shape " + Arrays.toString(shape)
                    + " and dtype " + dtype + " needs " + bytes + " bytes, has " + (end - begin));
        }
        ByteBuffer data = ByteBuffer.wrap(file, dataStart + (int) begin, (int) (end - begin)).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        float[] values = switch (dtype) {
            case "F32" -> {
                float[] v = new float[(int) count];
                data.asFloatBuffer().get(v);
                yield v;
            }
            case "F64" -> {
                float[] v = new float[(int) count];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) data.getDouble(i * 8);
                }
                yield v;
            }
            case "F16" -> {
                float[] v = new float[(int) count];
                for (int i = 0; i < v.length; i++) {
                    v[i] = halfToFloat(data.getShort(i * 2));
                }
                yield v;
            }
            case "BF16" -> {
                float[] v = new float[(int) count];
                for (int i = 0; i < v.length; i++) {
                    v[i] = Float.intBitsToFloat((data.getShort(i * 2) & 0xFFFF) << 16);
                }
                yield v;
            }
            default -> null; // integer tensors: listed, not converted
        };
        return new Tensor(dtype, shape, values);
    }

    /** Writes every tensor as F32, in insertion order, with the metadata. */
    public byte[] toBytes() {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put(METADATA, metadata);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            if (t.values() == null) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " has no float values to write");
            }
            long bytes = 4L * t.values().length;
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("dtype", "F32");
            spec.put("shape", t.shape());
            spec.put("data_offsets", new long[] {offset, offset + bytes});
            header.put(e.getKey(), spec);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // The format asks for the data to start 8-byte aligned; pad the header with spaces.
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded);
        out.put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        for (Tensor t : tensors.values()) {
            out.asFloatBuffer().put(t.values());
            out.position(out.position() + 4 * t.values().length);
        }
        return out.array();
    }

    /** IEEE 754 half precision to float (Float.float16ToFloat arrived only in Java 20). */
    static float halfToFloat(short half) {
        int h = half & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float value = mantissa * 0x1p-24f; // subnormal (or zero)
            return sign == 0 ? value : -value;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
