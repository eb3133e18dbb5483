package dev.petal.common.model;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.petal.common.engine.TorchScriptArchive;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link FoldedResNet} compiled by libtorch as one TorchScript program: the whole forward is one
 * native call rather than one per op, activations and weights are channels-last, and the network can
 * compute in {@link Precision#BF16}. DJL 0.36 cannot hold a bfloat16 tensor (its JNI aborts the
 * JVM on one), so the casts live inside the program: fp32 in, fp32 logits out, bf16 weights and
 * activations in between.
 *
 * <p>The program is generated from the folded network's structure, so it is the same function
 * ({@code ScriptedResNetTest} checks its logits against the ResNet's in evaluation mode, with either
 * {@link Kernels}).
 */
public final class ScriptedResNet implements AutoCloseable {
    private static final String CLASS_NAME = "PetalResNet";
    private static final System.Logger LOG = System.getLogger(ScriptedResNet.class.getName());

    /** Which convolution kernels the program calls. */
    enum Kernels {
        /** {@code torch.conv2d}, then the ReLU and the residual sum as separate in-place ops: any device. */
        PORTABLE,
        /**
         * oneDNN's fused convolutions, the ones libtorch registers for {@code torch.compile} on CPUs
         * ({@code mkldnn::_convolution_pointwise}): the ReLU and the residual sum happen inside the
         * convolution, and the weights are re-laid once, at load, in oneDNN's blocked format instead of
         * on every call (docs/performance.md: batch 1 in fp32 from 12 to 8 ms). CPU only.
         */
        ONEDNN
    }

    private final PtSymbolBlock module;
    private final Precision precision;
    private final Kernels kernels;

    private ScriptedResNet(PtSymbolBlock module, Precision precision, Kernels kernels) {
        this.module = module;
        this.precision = precision;
        this.kernels = kernels;
    }

    /**
     * Compiles {@code folded} for {@code precision} and square inputs of {@code imageSize} pixels, with
     * oneDNN's fused kernels on a CPU (the portable program where this libtorch lacks them) and the
     * portable ones elsewhere. The program holds its own references to the weights, so {@code folded}
     * can be closed.
     */
    public static ScriptedResNet of(FoldedResNet folded, Precision precision, int imageSize, NDManager manager) {
        if (!manager.getDevice().isGpu()) {
            try {
                return of(folded, precision, imageSize, Kernels.ONEDNN, manager);
            } catch (EngineException e) {
                LOG.log(System.Logger.Level.WARNING, "this libtorch has no oneDNN fused convolutions ("
                        + String.valueOf(e.getMessage()).strip().lines().findFirst().orElse("") + "); using the portable program");
            }
        }
        return of(folded, precision, imageSize, Kernels.PORTABLE, manager);
    }

    static ScriptedResNet of(FoldedResNet folded, Precision precision, int imageSize, Kernels kernels, NDManager manager) {
        Program program = new Program(kernels, precision, imageSize);
        PtSymbolBlock module = TorchScriptArchive.load(manager, CLASS_NAME, program.source(folded));
        List<NDArray> weights = program.weights;
        try (IValue list = IValue.listFrom(weights.stream().map(PtNDArray.class::cast).toArray(PtNDArray[]::new));
             IValue count = IValueUtils.runMethod(module, "set_weights", list)) {
            if (count.toLong() != weights.size()) {
                throw new IllegalStateException("the program took " + count.toLong() + " of " + weights.size() + " weights");
            }
        } catch (RuntimeException e) {
            module.close();
            throw e;
        }
        return new ScriptedResNet(module, precision, kernels);
    }

    public Precision precision() {
        return precision;
    }

    Kernels kernels() {
        return kernels;
    }

    /** Float32 logits of a float32 NCHW batch, in {@code x}'s manager; {@code x} stays open. */
    public NDArray logits(NDArray x) {
        // Per thread in libtorch, like grad mode. Off: this program has nothing for the profiling
        // executor to fuse on a CPU, and each new batch size would otherwise be profiled again.
        JniUtils.setGraphExecutorOptimize(false);
        try (IValue input = IValue.from((PtNDArray) x); IValue output = module.forward(input)) {
            return output.toTensor((PtNDManager) x.getManager());
        }
    }

    @Override
    public void close() {
        module.close();
    }

    /**
     * The program's source, generated from the folded network: {@code forward} unrolls the network and
     * collects the weights it indexes as {@code w[i]}, in order; {@code set_weights} stores them.
     */
    private static final class Program {
        private final Kernels kernels;
        private final Precision precision;
        private final StringBuilder source = new StringBuilder();
        final List<NDArray> weights = new ArrayList<>();
        /** set_weights' statements that re-lay each convolution weight for oneDNN ({@link Kernels#ONEDNN} only). */
        private final List<String> relayouts = new ArrayList<>();
        /** Height and width of the activations at the current point of the forward. */
        private int size;

        Program(Kernels kernels, Precision precision, int imageSize) {
            this.kernels = kernels;
            this.precision = precision;
            this.size = imageSize;
        }

        String source(FoldedResNet net) {
            forward(net);
            setWeights();
            return source.toString();
        }

        private void forward(FoldedResNet net) {
            line("def forward(self, x: Tensor) -> Tensor:");
            line("    w = self.w");
            line(precision == Precision.FP32 ? "    h = x" : "    h = torch.to(x, " + precision.scalarType + ")");
            line("    h = torch.contiguous(h, memory_format=" + CHANNELS_LAST + ")");
            if (net.stemPool()) {
                // The ReLU commutes with the max-pool: fused into the convolution it is free, alone it
                // runs on the pooled quarter (FoldedResNet puts it there).
                conv("h", "h", net.stem(), kernels == Kernels.ONEDNN);
                line("    h = torch.max_pool2d(h, [3, 3], [2, 2], [1, 1], [1, 1])");
                size = (size - 1) / 2 + 1;
                if (kernels == Kernels.PORTABLE) {
                    line("    h = torch.relu_(h)");
                }
            } else {
                conv("h", "h", net.stem(), net.stem().relu());
            }
            for (FoldedResNet.Residual block : net.blocks()) {
                residual(block);
            }
            line("    h = torch.flatten(torch.adaptive_avg_pool2d(h, [1, 1]), 1)");
            line("    h = torch.linear(h, " + weight(net.fcWeight()) + ", " + weight(net.fcBias()) + ")");
            line(precision == Precision.FP32 ? "    return h" : "    return torch.to(h, 6)");
        }

        /** relu(main(h) + shortcut(h)), leaving the result in {@code h}. */
        private void residual(FoldedResNet.Residual block) {
            int inputSize = size;
            List<FoldedResNet.FoldedConv> main = block.main();
            String input = "h";
            for (FoldedResNet.FoldedConv c : main.subList(0, main.size() - 1)) {
                conv("o", input, c, c.relu());
                input = "o";
            }
            int mainSize = size;
            if (block.shortcut() != null) {
                size = inputSize;
                conv("h", "h", block.shortcut(), false);
                size = mainSize;
            }
            FoldedResNet.FoldedConv last = main.get(main.size() - 1);
            if (kernels == Kernels.ONEDNN) {
                // h = relu(conv(o) + h), written into h (the block's input or its shortcut, both dead after this).
                String args = convArgs(last);
                line("    h = ops.mkldnn._convolution_pointwise_(h, " + input + ", " + args
                        + ", \"add\", 1.0, \"relu\", " + NO_SCALARS + ", None)");
            } else {
                conv("o", input, last, false);
                line("    o = torch.add_(o, h)");
                line("    h = torch.relu_(o)");
            }
        }

        private void conv(String out, String in, FoldedResNet.FoldedConv c, boolean relu) {
            String args = convArgs(c);
            if (kernels == Kernels.ONEDNN) {
                line("    " + out + " = ops.mkldnn._convolution_pointwise(" + in + ", " + args + ", \""
                        + (relu ? "relu" : "none") + "\", " + NO_SCALARS + ", None)");
            } else {
                line("    " + out + " = torch.conv2d(" + in + ", " + args + ")");
                if (relu) {
                    line("    " + out + " = torch.relu_(" + out + ")");
                }
            }
        }

        /**
         * The weight, bias and geometry arguments of a convolution in this program's kernels, and the
         * activations' size after it. oneDNN's kernels take padding before stride and a dilation and
         * group count; {@code torch.conv2d} takes stride before padding.
         */
        private String convArgs(FoldedResNet.FoldedConv c) {
            Shape kernel = c.weight().getShape();
            int at = weights.size();
            String weightAndBias = weight(c.weight()) + ", " + weight(c.bias());
            String geometry;
            if (kernels == Kernels.ONEDNN) {
                geometry = pair(c.padding()) + ", " + pair(c.stride()) + ", [1, 1], 1";
                // Re-laid for channels-last batches of this size (the batch size does not change the layout).
                relayouts.add("    stored[" + at + "] = ops.mkldnn._reorder_convolution_weight(stored[" + at + "], "
                        + geometry + ", [1, " + kernel.get(1) + ", " + size + ", " + size + "])");
            } else {
                geometry = pair(c.stride()) + ", " + pair(c.padding());
            }
            size = (int) ((size + 2 * c.padding().get(0) - kernel.get(2)) / c.stride().get(0) + 1);
            return weightAndBias + ", " + geometry;
        }

        private String weight(NDArray array) {
            weights.add(array);
            return "w[" + (weights.size() - 1) + "]";
        }

        /**
         * Stores the weights once, in the compute precision, convolution weights channels-last (and, for
         * oneDNN's kernels, in the layout their convolutions read).
         */
        private void setWeights() {
            String cast = precision == Precision.FP32 ? "t" : "torch.to(t, " + precision.scalarType + ")";
            line("def set_weights(self, ws: List[Tensor]) -> int:");
            line("    stored: List[Tensor] = []");
            line("    for t in ws:");
            line("        u = " + cast);
            line("        if u.dim() == 4:");
            line("            u = torch.contiguous(u, memory_format=" + CHANNELS_LAST + ")");
            line("        stored.append(u)");
            relayouts.forEach(this::line);
            line("    self.w = stored");
            line("    return len(self.w)");
        }

        private void line(String code) {
            source.append("    ").append(code).append('\n');
        }
    }

    /**
     * The empty list of a oneDNN convolution's {@code Scalar?[] scalars} (ReLU takes none), as the
     * TorchScript serialiser writes a typed empty list.
     */
    private static final String NO_SCALARS = "annotate(List[Optional[number]], [])";

    /** A TorchScript int list of a 2-d shape. */
    static String pair(Shape shape) {
        return "[" + shape.get(0) + ", " + shape.get(1) + "]";
    }

    /**
     * libtorch's {@code c10::MemoryFormat::ChannelsLast}. Activations and convolution weights in NHWC
     * order: oneDNN's convolutions need no layout reorders and max-pool vectorises over channels.
     * Measured here: 1.5x the images/s of NCHW in fp32, 1.8x in bf16 (PyTorch gains alike).
     */
    public static final int CHANNELS_LAST = 2;
}
