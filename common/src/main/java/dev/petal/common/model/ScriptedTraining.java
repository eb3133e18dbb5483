package dev.petal.common.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.petal.common.engine.GradModeOff;
import dev.petal.common.engine.TorchScriptArchive;
import java.util.ArrayList;
import java.util.List;

/**
 * The training-mode forward of a {@link ResNet} as one TorchScript program over the network's own
 * parameters: one native call per step instead of one per op (about 150 for ResNet-18), in-place
 * ReLUs and residual sums as in torchvision, channels-last activations, and optionally bf16 compute. Autograd records through
 * it, so the loss differentiates with respect to the ResNet's own parameters, and its BatchNorm running
 * statistics are updated in place, exactly as the op-by-op forward does ({@code ScriptedTrainingTest}
 * compares the two).
 *
 * <p>In {@link Precision#BF16} it is mixed precision as PyTorch's autocast does it on a CPU: the
 * parameters stay fp32 (the optimizer updates fp32 master weights), each step casts them to bf16 for
 * the convolutions, BatchNorm keeps fp32 statistics and affine parameters, and the head and the loss
 * are fp32.
 *
 * <p>The convolution weights themselves are re-laid channels-last once, in place, when the program is
 * compiled, as {@code model.to(memory_format=torch.channels_last)} does in PyTorch. Otherwise each step
 * copies every weight into that layout and its gradient back (two passes over 45 MB for ResNet-18),
 * and the gradients accumulate in the other layout: about 4% of a batch-4 step in fp32 and 6% in bf16
 * (median of three alternating runs each).
 */
public final class ScriptedTraining implements AutoCloseable {
    private static final String CLASS_NAME = "PetalResNetTraining";
    /** The names DJL's {@link IValueUtils#forward} reads as "put this array into list ps / rs". */
    private static final String TRAINABLE_LIST = "ps[]";
    private static final String STATISTICS_LIST = "rs[]";

    private final PtSymbolBlock module;
    private final List<NDArray> trainable;
    private final List<NDArray> statistics;
    private final Precision precision;

    private ScriptedTraining(PtSymbolBlock module, List<NDArray> trainable, List<NDArray> statistics, Precision precision) {
        this.module = module;
        this.trainable = trainable;
        this.statistics = statistics;
        this.precision = precision;
    }

    /** Compiles the training forward of an initialised {@code net}; the program lives in {@code manager}. */
    public static ScriptedTraining of(ResNet net, Precision precision, NDManager manager) {
        Writer w = new Writer(precision);
        List<Block> stem = net.stemLayers();
        w.line("h = torch.contiguous(" + w.in("x") + ", memory_format=" + ScriptedResNet.CHANNELS_LAST + ")");
        w.conv("h", "h", (Convolution) stem.get(0));
        w.norm("h", (BatchNorm) stem.get(1));
        if (!net.config().smallImageStem()) {
            w.line("h = torch.max_pool2d(h, [3, 3], [2, 2], [1, 1], [1, 1])");
        }
        w.line("h = torch.relu_(h)");
        for (ResidualBlock block : net.residualBlocks()) {
            String input = "h";
            for (Block layer : block.mainLayers()) {
                if (layer instanceof Convolution conv) {
                    w.conv("o", input, conv);
                    input = "o";
                } else if (layer instanceof BatchNorm norm) {
                    w.norm("o", norm);
                } else {
                    w.line("o = torch.relu_(o)"); // BlockType's main paths hold only conv, norm and ReLU
                }
            }
            List<Block> shortcut = block.shortcutLayers();
            if (!shortcut.isEmpty()) {
                w.conv("h", "h", (Convolution) shortcut.get(0));
                w.norm("h", (BatchNorm) shortcut.get(1));
            }
            w.line("o = torch.add_(o, h)");
            w.line("h = torch.relu_(o)");
        }
        Block fc = net.head();
        w.line("h = torch.flatten(torch.adaptive_avg_pool2d(h, [1, 1]), 1)");
        if (precision != Precision.FP32) {
            w.line("h = torch.to(h, " + Precision.FP32.scalarType + ")");
        }
        w.line("return torch.linear(h, " + w.trainable(fc, "weight") + ", " + w.trainable(fc, "bias") + ")");
        String methods = "    def forward(self, x: Tensor, ps: List[Tensor], rs: List[Tensor]) -> Tensor:\n" + w.body
                + RELAYOUT_METHOD;
        PtSymbolBlock module = TorchScriptArchive.load(manager, CLASS_NAME, methods);
        layOutChannelsLast(module, w.trainable.stream().filter(p -> p.getShape().dimension() == 4).toList());
        return new ScriptedTraining(module, w.trainable, w.statistics, precision);
    }

    /**
     * Re-lays each weight in place: same values, same Java handle, channels-last strides. Gradients
     * do not exist yet when a session compiles; autograd then makes them in the weight's layout.
     */
    private static final String RELAYOUT_METHOD = """
                def lay_out_channels_last(self, ws: List[Tensor]) -> int:
                    for w in ws:
                        w.set_(torch.contiguous(w, memory_format=%d))
                    return len(ws)
            """.formatted(ScriptedResNet.CHANNELS_LAST);

    private static void layOutChannelsLast(PtSymbolBlock module, List<NDArray> weights) {
        try (GradModeOff off = new GradModeOff(); // an in-place change of leaves that require a gradient
             IValue list = IValue.listFrom(weights.stream().map(PtNDArray.class::cast).toArray(PtNDArray[]::new));
             IValue ignored = IValueUtils.runMethod(module, "lay_out_channels_last", list)) {
            // in place
        }
    }

    public Precision precision() {
        return precision;
    }

    /**
     * Training-mode logits of an NCHW float32 batch, in {@code x}'s manager, recorded by autograd when
     * gradients are being collected; updates the BatchNorm running statistics.
     */
    public NDArray logits(NDArray x) {
        JniUtils.setGraphExecutorOptimize(false); // per thread; the interpreter alone, no profiling runs
        NDList inputs = new NDList(trainable.size() + statistics.size() + 1);
        inputs.add(x);
        List<String> names = new ArrayList<>();
        // DJL passes a list argument as arrays named "<list>[]"; the parameters' own names are put back
        // at once (they are written into saved weights).
        for (NDArray p : trainable) {
            names.add(p.getName());
            p.setName(TRAINABLE_LIST);
            inputs.add(p);
        }
        for (NDArray r : statistics) {
            names.add(r.getName());
            r.setName(STATISTICS_LIST);
            inputs.add(r);
        }
        try {
            return IValueUtils.forward(module, inputs, true).singletonOrThrow();
        } finally {
            for (int i = 0; i < names.size(); i++) {
                inputs.get(i + 1).setName(names.get(i));
            }
        }
    }

    @Override
    public void close() {
        module.close();
    }

    /** The program's source, and the arrays it indexes as {@code ps[i]} and {@code rs[i]}, in order. */
    private static final class Writer {
        final Precision precision;
        final StringBuilder body = new StringBuilder();
        final List<NDArray> trainable = new ArrayList<>();
        final List<NDArray> statistics = new ArrayList<>();

        Writer(Precision precision) {
            this.precision = precision;
        }

        void line(String code) {
            body.append("        ").append(code).append('\n');
        }

        /** {@code value} in the compute precision (a differentiable cast in bf16). */
        String in(String value) {
            return precision == Precision.FP32 ? value : "torch.to(" + value + ", " + precision.scalarType + ")";
        }

        String trainable(Block block, String parameter) {
            trainable.add(block.getParameters().get(parameter).getArray());
            return "ps[" + (trainable.size() - 1) + "]";
        }

        String statistic(Block block, String parameter) {
            statistics.add(block.getParameters().get(parameter).getArray());
            return "rs[" + (statistics.size() - 1) + "]";
        }

        void conv(String out, String in, Convolution conv) {
            if (conv.isIncludeBias()) {
                throw new IllegalStateException("ResNet convolutions have no bias (a BatchNorm follows)");
            }
            // The weight is channels-last like the activations (laid out once, see the class comment);
            // a bf16 cast keeps that layout.
            line(out + " = torch.conv2d(" + in + ", " + in(trainable(conv, "weight")) + ", None, "
                    + ScriptedResNet.pair(conv.getStride()) + ", " + ScriptedResNet.pair(conv.getPadding()) + ")");
        }

        /** Training-mode BatchNorm: batch statistics, running ones updated in place with PyTorch's momentum. */
        void norm(String value, BatchNorm norm) {
            line(value + " = torch.batch_norm(" + value + ", " + trainable(norm, "gamma") + ", " + trainable(norm, "beta")
                    + ", " + statistic(norm, "runningMean") + ", " + statistic(norm, "runningVar") + ", True, "
                    + literal(1 - BlockType.NORM_MOMENTUM) + ", " + literal(BlockType.NORM_EPSILON) + ", True)");
        }

        /** The float as DJL hands it to libtorch (widened to double), written out in full: no exponent. */
        static String literal(float value) {
            return new java.math.BigDecimal((double) value).toPlainString();
        }
    }
}
