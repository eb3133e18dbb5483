package dev.petal.common.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OrtException;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.petal.common.engine.PyTorchEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A network's evaluation-mode forward as an ONNX model (opset 13), written from its {@link LayerPlan} and weights
 * with BatchNorms folded into the convolutions, as {@link ServingProgram} computes it: what ONNX Runtime serves
 * where it measures faster than libtorch ({@link OnnxServingProgram}). Input {@value #INPUT}: float32 NCHW
 * pixels, any batch size; outputs {@value #LOGITS} and {@value #PROBABILITIES} (softmax over the classes).
 *
 * <p>Three forms of the same network: fp32 ({@link #of}); fp32 with every {@link ActivationRanges} site as an extra
 * output, to measure the ranges ({@link #probing}); and int8 ({@link #quantized}), in ONNX's QDQ form: each site's
 * tensor passes a QuantizeLinear/DequantizeLinear pair (uint8, per tensor, from its range), each convolution's weights
 * are quantized per output channel ({@link WeightStorage}) and its bias int32, which ONNX Runtime fuses into its
 * integer kernels. The head (pooling and the classifier) stays fp32.
 *
 * <p>The bytes are the ONNX protobuf wire format (onnx.proto's field numbers), written with protobuf's own encoder:
 * only the handful of messages a ResNet needs, so no generated classes. They are written once, into native memory that
 * is freed as soon as the {@link Reader} returns, the fp32 weights copied straight from libtorch's: a serving JVM writes
 * a graph on every hot reload, and any heap array of the model's size would stay in its old generation until a full
 * collection (docs/performance.md, "Hot reloads on ONNX Runtime").
 */
public final class OnnxGraph {
    public static final String INPUT = "pixels";
    public static final String LOGITS = "logits";
    public static final String PROBABILITIES = "probabilities";
    static final int OPSET = 13;
    /** ONNX IR version 7: the first to go with opset 13. */
    private static final int IR_VERSION = 7;
    // TensorProto.DataType
    private static final int FLOAT = 1;
    private static final int UINT8 = 2;
    private static final int INT8 = 3;
    private static final int INT32 = 6;
    /** Weights map onto [-127, 127]: symmetric, so their zero point is 0 (128 when stored offset as uint8). */
    private static final int WEIGHT_LEVELS = 127;
    private static final int ATTRIBUTE_INT = 2;
    private static final int ATTRIBUTE_INTS = 7;

    private final ModelParameters params;
    private final NDManager folding;
    /** Null: fp32. */
    private final ActivationRanges ranges;
    private final WeightStorage storage;
    private final boolean probing;
    private final Message graph = new Message();
    /** The uint8 levels of each dequantized tensor, by its name (int8 only). */
    private final Map<String, Levels> levels = new HashMap<>();
    private int names;

    private OnnxGraph(ModelParameters params, NDManager folding, ActivationRanges ranges, WeightStorage storage, boolean probing) {
        this.params = params;
        this.folding = folding;
        this.ranges = ranges;
        this.storage = storage;
        this.probing = probing;
    }

    /**
     * How int8 weights are stored; the values are the same either way. {@code SIGNED}: int8 levels with zero point 0,
     * which ONNX Runtime runs on its symmetric convolution kernels (VNNI). {@code OFFSET}: the same levels plus 128, as
     * uint8 with zero point 128, which it runs as a general quantized matrix product, for which it has AMX kernels:
     * faster on a CPU with AMX (docs/performance.md).
     */
    enum WeightStorage {
        SIGNED(DataType.INT8, 0), OFFSET(DataType.UINT8, 128);

        /** The levels' type; each level is stored plus {@code zeroPoint}. */
        final DataType type;
        final int zeroPoint;

        WeightStorage(DataType type, int zeroPoint) {
            this.type = type;
            this.zeroPoint = zeroPoint;
        }

        private static final System.Logger LOG = System.getLogger(OnnxGraph.class.getName());
        private static volatile WeightStorage here;

        /** {@code OFFSET} on a CPU with AMX-INT8, {@code SIGNED} elsewhere; the first call logs the choice. */
        static WeightStorage forThisCpu() {
            WeightStorage chosen = here;
            if (chosen == null) {
                chosen = PyTorchEngine.cpuFlags().contains("amx_int8") ? OFFSET : SIGNED;
                here = chosen;
                LOG.log(System.Logger.Level.INFO, chosen == OFFSET
                        ? "int8 weights stored as uint8 offset by 128, for ONNX Runtime's AMX kernels (this CPU has AMX-INT8)"
                        : "int8 weights stored as signed levels, for ONNX Runtime's symmetric convolution kernels (no AMX-INT8 here)");
            }
            return chosen;
        }
    }

    /** What opens a graph: it gets the model's bytes in a direct buffer that is valid only until it returns. */
    @FunctionalInterface
    public interface Reader<T> {
        T read(ByteBuffer model) throws OrtException;
    }

    /** Hands the ONNX model of {@code params}' network, in fp32, to {@code reader}; {@code params} are left as they are. */
    public static <T> T of(ModelParameters params, Reader<T> reader) throws OrtException {
        return write(params, null, WeightStorage.SIGNED, false, reader);
    }

    /** As {@link #of}, with each site but the input as an extra output named after the site ({@link #sites}). */
    public static <T> T probing(ModelParameters params, Reader<T> reader) throws OrtException {
        return write(params, null, WeightStorage.SIGNED, true, reader);
    }

    /**
     * The network in int8 (QDQ), each site's tensor quantized over its range in {@code ranges}, the weights stored as
     * suits this CPU ({@link WeightStorage#forThisCpu}).
     */
    public static <T> T quantized(ModelParameters params, ActivationRanges ranges, Reader<T> reader) throws OrtException {
        return quantized(params, ranges, WeightStorage.forThisCpu(), reader);
    }

    /** As above, the weights stored as {@code storage}. */
    static <T> T quantized(ModelParameters params, ActivationRanges ranges, WeightStorage storage, Reader<T> reader)
            throws OrtException {
        return write(params, java.util.Objects.requireNonNull(ranges, "ranges"), storage, false, reader);
    }

    /** The sites {@link #probing} outputs, in the order the network computes them: every site but the input. */
    public static List<String> sites(LayerPlan plan) {
        List<String> out = new ArrayList<>();
        out.add(plan.stem().conv().name());
        for (LayerPlan.Block block : plan.blocks()) {
            block.main().forEach(unit -> out.add(unit.conv().name()));
            if (block.shortcut() != null) {
                out.add(block.shortcut().conv().name());
            }
            out.add(block.name());
        }
        return out;
    }

    private static <T> T write(ModelParameters params, ActivationRanges ranges, WeightStorage storage, boolean probing,
            Reader<T> reader) throws OrtException {
        // libtorch's memory, freed when `written` closes, rather than a direct ByteBuffer, which only a collection frees.
        try (NDManager written = params.manager().newSubManager()) {
            ByteBuffer bytes;
            try (NDManager folding = params.manager().newSubManager()) {
                OnnxGraph g = new OnnxGraph(params, folding, ranges, storage, probing);
                g.build();
                Message model = new Message()
                        .int64(1, IR_VERSION)
                        .string(2, "petal")
                        .message(7, g.graph)
                        .message(8, new Message().string(1, "").int64(2, OPSET));
                bytes = written.create(new Shape(model.size()), DataType.UINT8, Device.cpu()).toByteBuffer(true);
                model.writeTo(bytes);
            }
            // The folded weights are freed before the reader makes its own copy: a load's peak holds one copy fewer.
            return reader.read(bytes.rewind());
        }
    }

    private void build() {
        LayerPlan plan = params.plan();
        graph.string(2, "petal-" + plan.blocks().size() + "-blocks");
        String x = ranges == null ? INPUT : quantDequant(INPUT, Levels.of(ranges.of(ActivationRanges.INPUT), false));
        String h = conv(x, plan.stem(), plan.stem().relu());
        if (plan.stemPool()) {
            String pooled = name("pool");
            graph.message(1, node("MaxPool", new String[] {h}, pooled)
                    .message(5, ints("kernel_shape", 3, 3)).message(5, ints("strides", 2, 2)).message(5, ints("pads", 1, 1, 1, 1)));
            // A max of uint8 levels is a level of the same scale: the pair lets ONNX Runtime pool the integers.
            h = ranges == null ? pooled : quantDequant(pooled, levels.get(h));
        }
        for (LayerPlan.Block block : plan.blocks()) {
            String o = h;
            for (LayerPlan.ConvUnit unit : block.main()) {
                o = conv(o, unit, unit.relu());
            }
            String shortcut = block.shortcut() == null ? h : conv(h, block.shortcut(), false);
            String sum = name("sum");
            graph.message(1, node("Add", new String[] {o, shortcut}, sum));
            h = site(sum, block.name(), true);
        }
        LayerPlan.Head head = plan.head();
        String pooled = name("avgpool");
        graph.message(1, node("GlobalAveragePool", new String[] {h}, pooled));
        String flat = name("flatten");
        graph.message(1, node("Flatten", new String[] {pooled}, flat).message(5, integer("axis", 1)));
        NDArray headWeight = params.get(head.name() + ".weight");
        NDArray headBias = params.get(head.name() + ".bias");
        String weight = initializer(headWeight);
        String bias = initializer(headBias);
        graph.message(1, node("Gemm", new String[] {flat, weight, bias}, LOGITS).message(5, integer("transB", 1)));
        graph.message(1, node("Softmax", new String[] {LOGITS}, PROBABILITIES).message(5, integer("axis", 1)));
        graph.message(11, valueInfo(INPUT, -1, 3, plan.imageSize(), plan.imageSize()));
        graph.message(12, valueInfo(LOGITS, -1, head.classes()));
        graph.message(12, valueInfo(PROBABILITIES, -1, head.classes()));
    }

    /** The unit's convolution (BatchNorm folded), then its ReLU if {@code relu}; returns the output's name. */
    private String conv(String input, LayerPlan.ConvUnit unit, boolean relu) {
        LayerPlan.Convolution c = unit.conv();
        ModelParameters.FoldedConvolution f = params.folded(unit, folding);
        String weight;
        String bias;
        if (ranges == null) {
            weight = initializer(f.weight());
            bias = initializer(f.bias());
        } else {
            String[] wb = quantizedWeights(f, levels.get(input).scale());
            weight = wb[0];
            bias = wb[1];
        }
        String out = name(c.name());
        graph.message(1, node("Conv", new String[] {input, weight, bias}, out)
                .message(5, ints("kernel_shape", c.kernel(), c.kernel()))
                .message(5, ints("strides", c.stride(), c.stride()))
                .message(5, ints("pads", c.padding(), c.padding(), c.padding(), c.padding()))
                .message(5, integer("group", c.groups())));
        return site(out, c.name(), relu);
    }

    /**
     * Where {@code value} becomes {@code site}'s tensor: through a ReLU if {@code relu}. In int8 a QuantizeLinear/
     * DequantizeLinear pair over the site's range instead; after a ReLU that range starts at 0, so its zero point is 0
     * and the quantize saturates negatives to 0: it is the ReLU. Returns the name the next nodes read.
     */
    private String site(String value, String site, boolean relu) {
        if (ranges != null) {
            return quantDequant(value, Levels.of(ranges.of(site), relu));
        }
        String out = value;
        if (relu) {
            out = probing ? site : name(site + ".relu");
            graph.message(1, node("Relu", new String[] {value}, out));
        } else if (probing) {
            graph.message(1, node("Identity", new String[] {value}, site));
            out = site;
        }
        if (probing) {
            graph.message(12, new Message().string(1, site).message(2, new Message().message(1, new Message().int32(1, FLOAT))));
        }
        return out;
    }

    /** {@code value} through QuantizeLinear then DequantizeLinear with {@code l}; returns the dequantized name. */
    private String quantDequant(String value, Levels l) {
        String scale = initializer(FLOAT, new long[0], ByteBuffer.allocate(Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).putFloat(l.scale()).array());
        String zero = initializer(UINT8, new long[0], new byte[] {(byte) l.zeroPoint()});
        String q = name(value + ".q");
        String dq = name(value + ".dq");
        graph.message(1, node("QuantizeLinear", new String[] {value, scale, zero}, q));
        graph.message(1, node("DequantizeLinear", new String[] {q, scale, zero}, dq));
        levels.put(dq, l);
        return dq;
    }

    /**
     * The folded weights as int8 per output channel (scale: the channel's largest magnitude over 127) and the bias as
     * int32 at the scale of input times weight, as ONNX Runtime's integer convolution wants it; each dequantized by a
     * DequantizeLinear on axis 0. Returns the weight's and the bias's dequantized names.
     */
    private String[] quantizedWeights(ModelParameters.FoldedConvolution f, float inputScale) {
        NDArray w = f.weight();
        int channels = (int) w.getShape().get(0);
        float[] largest = w.reshape(channels, -1).abs().max(new int[] {1}).toFloatArray();
        float[] b = f.bias().toFloatArray();
        float[] channelScales = new float[channels];
        ByteBuffer scales = ByteBuffer.allocate(channels * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer biasScales = ByteBuffer.allocate(channels * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer biasLevels = ByteBuffer.allocate(channels * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int c = 0; c < channels; c++) {
            float scale = largest[c] > 0 ? largest[c] / WEIGHT_LEVELS : 1f;
            channelScales[c] = scale;
            float biasScale = inputScale * scale;
            scales.putFloat(scale);
            biasScales.putFloat(biasScale);
            biasLevels.putInt((int) Math.max(Integer.MIN_VALUE + 1, Math.min(Integer.MAX_VALUE, Math.rint(b[c] / biasScale))));
        }
        // The weights' levels in libtorch, where they are written from: rounded half to even, as Math.rint.
        NDArray levels = w.div(folding.create(channelScales, new Shape(channels, 1, 1, 1)))
                .round().clip(-WEIGHT_LEVELS, WEIGHT_LEVELS).add(storage.zeroPoint).toType(storage.type, false);
        byte[] zeroPoints = new byte[channels];
        Arrays.fill(zeroPoints, (byte) storage.zeroPoint);
        long[] perAxis = {channels};
        String weight = dequantized(initializer(levels), initializer(FLOAT, perAxis, scales.array()),
                initializer(onnxType(storage.type), perAxis, zeroPoints));
        String bias = dequantized(initializer(INT32, perAxis, biasLevels.array()), initializer(FLOAT, perAxis, biasScales.array()),
                initializer(INT32, perAxis, new byte[channels * Integer.BYTES]));
        return new String[] {weight, bias};
    }

    private String dequantized(String levels, String scale, String zero) {
        String out = name("dq");
        graph.message(1, node("DequantizeLinear", new String[] {levels, scale, zero}, out).message(5, integer("axis", 0)));
        return out;
    }

    /** Adds float32, int8 or uint8 {@code values} as an initializer, copied from libtorch when the graph is written; returns its name. */
    private String initializer(NDArray values) {
        String name = name("w");
        graph.message(5, tensor(values.getShape().getShape(), onnxType(values.getDataType()), name).raw(9, values));
        return name;
    }

    /** TensorProto's data type for {@code type}. */
    private static int onnxType(DataType type) {
        return switch (type) {
            case FLOAT32 -> FLOAT;
            case INT8 -> INT8;
            case UINT8 -> UINT8;
            default -> throw new IllegalStateException("no ONNX initializer for " + type);
        };
    }

    /** Adds an initializer of {@code type} (TensorProto, raw little-endian data); returns its name. */
    private String initializer(int type, long[] shape, byte[] raw) {
        String name = name("w");
        graph.message(5, tensor(shape, type, name).bytes(9, raw));
        return name;
    }

    /** A TensorProto's dims, data type and name; its data (field 9, raw_data) follows. */
    private static Message tensor(long[] shape, int type, String name) {
        Message tensor = new Message();
        for (long d : shape) {
            tensor.int64(1, d);
        }
        return tensor.int32(2, type).string(8, name);
    }

    /**
     * A tensor's uint8 levels: {@code value = scale * (level - zeroPoint)}, as ONNX's QuantizeLinear defines them. The range
     * is widened to hold 0 (so 0 is exact: padding, and ReLU's floor); {@code relu} starts it at 0.
     */
    record Levels(float scale, int zeroPoint) {
        static Levels of(ActivationRanges.Range range, boolean relu) {
            float low = relu ? 0f : Math.min(0f, range.min());
            float high = Math.max(0f, range.max());
            if (high - low <= 0f) {
                return new Levels(1f, 0); // a tensor that was always 0
            }
            float scale = (high - low) / 255f;
            int zero = (int) Math.max(0, Math.min(255, Math.rint(-low / scale)));
            return new Levels(scale, zero);
        }
    }

    private String name(String stem) {
        return stem + "#" + names++;
    }

    private static Message node(String op, String[] inputs, String output) {
        Message node = new Message();
        for (String in : inputs) {
            node.string(1, in);
        }
        return node.string(2, output).string(3, output).string(4, op);
    }

    private static Message integer(String name, long value) {
        return new Message().string(1, name).int64(3, value).int32(20, ATTRIBUTE_INT);
    }

    private static Message ints(String name, long... values) {
        Message attribute = new Message().string(1, name);
        for (long v : values) {
            attribute.int64(8, v);
        }
        return attribute.int32(20, ATTRIBUTE_INTS);
    }

    /** A float tensor's name and shape; a negative dimension is the symbolic batch size. */
    private static Message valueInfo(String name, long... dims) {
        Message shape = new Message();
        for (long d : dims) {
            shape.message(1, d < 0 ? new Message().string(2, "batch") : new Message().int64(1, d));
        }
        Message tensorType = new Message().int32(1, FLOAT).message(2, shape);
        return new Message().string(1, name).message(2, new Message().message(1, tensorType));
    }

    /**
     * One protobuf message, kept as its fields until {@link #writeTo}: a nested message or a tensor's data is held by
     * reference and written once, straight into the model's one buffer of exactly its size. Encoding each message whole
     * and embedding its bytes in its parent copied every weight four times over through growing buffers.
     */
    private static final class Message {
        private final List<Field> fields = new ArrayList<>();
        private int size = -1;

        /** One field's encoded size, tag included, and how to write it. */
        private record Field(int size, Write write) {}

        private interface Write {
            void to(CodedOutputStream out) throws IOException;
        }

        Message int64(int field, long value) {
            return add(CodedOutputStream.computeInt64Size(field, value), out -> out.writeInt64(field, value));
        }

        Message int32(int field, int value) {
            return add(CodedOutputStream.computeInt32Size(field, value), out -> out.writeInt32(field, value));
        }

        Message string(int field, String value) {
            return add(CodedOutputStream.computeStringSize(field, value), out -> out.writeString(field, value));
        }

        Message bytes(int field, byte[] value) {
            return add(CodedOutputStream.computeByteArraySize(field, value), out -> out.writeByteArray(field, value));
        }

        /**
         * {@code values}' bytes, length-delimited (a TensorProto's raw_data, which is little-endian): copied from
         * libtorch's memory as they lie, in row-major order, on the little-endian hosts libtorch ships for.
         */
        Message raw(int field, NDArray values) {
            if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                throw new IllegalStateException("ONNX raw data is little-endian; this host is " + ByteOrder.nativeOrder());
            }
            int length = Math.toIntExact(values.size() * values.getDataType().getNumOfBytes());
            return delimited(field, length, out -> out.writeRawBytes(values.toByteBuffer(true)));
        }

        /** Embeds {@code value}, which is complete from here on. */
        Message message(int field, Message value) {
            return delimited(field, value.size(), value::writeTo);
        }

        private Message delimited(int field, int length, Write content) {
            return add(CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt32SizeNoTag(length) + length, out -> {
                out.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                out.writeUInt32NoTag(length);
                content.to(out);
            });
        }

        /** The encoded size; taken once the message is complete (embedding a message takes it). */
        int size() {
            if (size < 0) {
                size = fields.stream().mapToInt(Field::size).sum();
            }
            return size;
        }

        /** Writes the message into {@code bytes}, which has exactly its size left. */
        void writeTo(ByteBuffer bytes) {
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            try {
                writeTo(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e); // writing into a buffer of the right size does not fail
            }
            out.checkNoSpaceLeft();
        }

        private void writeTo(CodedOutputStream out) throws IOException {
            for (Field f : fields) {
                f.write().to(out);
            }
        }

        private Message add(int fieldSize, Write write) {
            if (size >= 0) {
                throw new IllegalStateException("a message is complete once its size is taken");
            }
            fields.add(new Field(fieldSize, write));
            return this;
        }
    }
}
