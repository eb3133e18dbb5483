package dev.petal.common.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A network's evaluation-mode forward as an ONNX model (opset 13), written from its {@link LayerPlan} and weights
 * with BatchNorms folded into the convolutions, as {@link ServingProgram} computes it: what ONNX Runtime serves
 * where it measures faster than libtorch ({@link OnnxServingProgram}). Input {@value #INPUT}: float32 NCHW
 * pixels, any batch size; outputs {@value #LOGITS} and {@value #PROBABILITIES} (softmax over the classes).
 *
 * <p>The bytes are the ONNX protobuf wire format (onnx.proto's field numbers), written with protobuf's own encoder:
 * only the handful of messages a ResNet needs, so no generated classes.
 */
public final class OnnxGraph {
    public static final String INPUT = "pixels";
    public static final String LOGITS = "logits";
    public static final String PROBABILITIES = "probabilities";
    static final int OPSET = 13;
    /** ONNX IR version 7: the first to go with opset 13. */
    private static final int IR_VERSION = 7;
    private static final int FLOAT = 1; // TensorProto.DataType
    private static final int ATTRIBUTE_INT = 2;
    private static final int ATTRIBUTE_INTS = 7;

    private final ModelParameters params;
    private final NDManager folding;
    private final Message graph = new Message();
    private int names;

    private OnnxGraph(ModelParameters params, NDManager folding) {
        this.params = params;
        this.folding = folding;
    }

    /** The ONNX model of {@code params}' network, in fp32; {@code params} are left as they are. */
    public static byte[] of(ModelParameters params) {
        try (NDManager folding = params.manager().newSubManager()) {
            OnnxGraph g = new OnnxGraph(params, folding);
            g.build();
            return new Message()
                    .int64(1, IR_VERSION)
                    .string(2, "petal")
                    .message(7, g.graph)
                    .message(8, new Message().string(1, "").int64(2, OPSET))
                    .toByteArray();
        }
    }

    private void build() {
        LayerPlan plan = params.plan();
        graph.string(2, "petal-" + plan.blocks().size() + "-blocks");
        String h = conv(INPUT, plan.stem(), plan.stem().relu());
        if (plan.stemPool()) {
            String pooled = name("pool");
            graph.message(1, node("MaxPool", new String[] {h}, pooled)
                    .message(5, ints("kernel_shape", 3, 3)).message(5, ints("strides", 2, 2)).message(5, ints("pads", 1, 1, 1, 1)));
            h = pooled;
        }
        for (LayerPlan.Block block : plan.blocks()) {
            String o = h;
            for (LayerPlan.ConvUnit unit : block.main()) {
                o = conv(o, unit, unit.relu());
            }
            String shortcut = block.shortcut() == null ? h : conv(h, block.shortcut(), false);
            String sum = name("sum");
            graph.message(1, node("Add", new String[] {o, shortcut}, sum));
            h = name("relu");
            graph.message(1, node("Relu", new String[] {sum}, h));
        }
        LayerPlan.Head head = plan.head();
        String pooled = name("avgpool");
        graph.message(1, node("GlobalAveragePool", new String[] {h}, pooled));
        String flat = name("flatten");
        graph.message(1, node("Flatten", new String[] {pooled}, flat).message(5, integer("axis", 1)));
        String weight = initializer(params.get(head.name() + ".weight"));
        String bias = initializer(params.get(head.name() + ".bias"));
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
        String out = name(c.name());
        graph.message(1, node("Conv", new String[] {input, initializer(f.weight()), initializer(f.bias())}, out)
                .message(5, ints("kernel_shape", c.kernel(), c.kernel()))
                .message(5, ints("strides", c.stride(), c.stride()))
                .message(5, ints("pads", c.padding(), c.padding(), c.padding(), c.padding()))
                .message(5, integer("group", c.groups())));
        if (!relu) {
            return out;
        }
        String activated = name(c.name() + ".relu");
        graph.message(1, node("Relu", new String[] {out}, activated));
        return activated;
    }

    /** Adds {@code array} (float32) as an initializer (TensorProto, raw little-endian data); returns its name. */
    private String initializer(NDArray array) {
        String name = name("w");
        float[] values = array.toFloatArray();
        ByteBuffer raw = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values);
        Message tensor = new Message();
        for (long d : array.getShape().getShape()) {
            tensor.int64(1, d);
        }
        graph.message(5, tensor.int32(2, FLOAT).string(8, name).bytes(9, raw.array()));
        return name;
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

    /** One protobuf message being written; nested messages are written whole, then embedded by length. */
    private static final class Message {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final CodedOutputStream out = CodedOutputStream.newInstance(bytes);

        Message int64(int field, long value) {
            return write(() -> out.writeInt64(field, value));
        }

        Message int32(int field, int value) {
            return write(() -> out.writeInt32(field, value));
        }

        Message string(int field, String value) {
            return write(() -> out.writeString(field, value));
        }

        Message bytes(int field, byte[] value) {
            return write(() -> out.writeByteArray(field, value));
        }

        Message message(int field, Message value) {
            return bytes(field, value.toByteArray());
        }

        byte[] toByteArray() {
            write(out::flush);
            return bytes.toByteArray();
        }

        private interface Write {
            void run() throws IOException;
        }

        private Message write(Write w) {
            try {
                w.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
            }
            return this;
        }
    }
}
