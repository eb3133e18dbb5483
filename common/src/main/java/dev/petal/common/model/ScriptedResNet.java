package dev.petal.common.model;

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
 * native call rather than one per op, ReLUs run in place (DJL has no in-place ReLU), activations and
 * weights are channels-last, and the network can compute in {@link Precision#BF16}. DJL 0.36 cannot hold a bfloat16 tensor (its JNI aborts the
 * JVM on one), so the casts live inside the program: fp32 in, fp32 logits out, bf16 weights and
 * activations in between.
 *
 * <p>The program is generated from the folded network's structure, so it is the same function
 * ({@code ScriptedResNetTest} checks its logits against the ResNet's in evaluation mode).
 */
public final class ScriptedResNet implements AutoCloseable {
    private static final String CLASS_NAME = "PetalResNet";

    private final PtSymbolBlock module;
    private final Precision precision;

    private ScriptedResNet(PtSymbolBlock module, Precision precision) {
        this.module = module;
        this.precision = precision;
    }

    /**
     * Compiles {@code folded} for {@code precision}. The program holds its own references to the weights
     * (channels-last copies of the convolution weights, bf16 copies in bf16), so {@code folded} can be closed.
     */
    public static ScriptedResNet of(FoldedResNet folded, Precision precision, NDManager manager) {
        List<NDArray> weights = new ArrayList<>();
        String methods = forward(folded, precision, weights) + setWeights(precision);
        PtSymbolBlock module = TorchScriptArchive.load(manager, CLASS_NAME, methods);
        try (IValue list = IValue.listFrom(weights.stream().map(PtNDArray.class::cast).toArray(PtNDArray[]::new));
             IValue count = IValueUtils.runMethod(module, "set_weights", list)) {
            if (count.toLong() != weights.size()) {
                throw new IllegalStateException("the program took " + count.toLong() + " of " + weights.size() + " weights");
            }
        } catch (RuntimeException e) {
            module.close();
            throw e;
        }
        return new ScriptedResNet(module, precision);
    }

    public Precision precision() {
        return precision;
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

    /** The forward, unrolled; appends the weights it indexes as {@code w[i]} to {@code weights}, in order. */
    private static String forward(FoldedResNet net, Precision precision, List<NDArray> weights) {
        StringBuilder s = new StringBuilder();
        s.append("    def forward(self, x: Tensor) -> Tensor:\n");
        s.append("        w = self.w\n");
        s.append(precision == Precision.FP32 ? "        h = x\n" : "        h = torch.to(x, " + precision.scalarType + ")\n");
        s.append("        h = torch.contiguous(h, memory_format=" + CHANNELS_LAST + ")\n");
        conv(s, "h", "h", net.stem(), weights);
        if (net.stemPool()) {
            s.append("        h = torch.max_pool2d(h, [3, 3], [2, 2], [1, 1], [1, 1])\n");
            s.append("        h = torch.relu_(h)\n");
        }
        for (FoldedResNet.Residual block : net.blocks()) {
            String input = "h";
            for (FoldedResNet.FoldedConv c : block.main()) {
                conv(s, "o", input, c, weights);
                input = "o";
            }
            if (block.shortcut() == null) {
                s.append("        o = torch.add_(o, h)\n");
            } else {
                conv(s, "h", "h", block.shortcut(), weights);
                s.append("        o = torch.add_(o, h)\n");
            }
            s.append("        h = torch.relu_(o)\n");
        }
        s.append("        h = torch.flatten(torch.adaptive_avg_pool2d(h, [1, 1]), 1)\n");
        int fc = weights.size();
        weights.add(net.fcWeight());
        weights.add(net.fcBias());
        s.append("        h = torch.linear(h, w[").append(fc).append("], w[").append(fc + 1).append("])\n");
        s.append(precision == Precision.FP32 ? "        return h\n" : "        return torch.to(h, 6)\n");
        return s.toString();
    }

    private static void conv(StringBuilder s, String out, String in, FoldedResNet.FoldedConv c, List<NDArray> weights) {
        int at = weights.size();
        weights.add(c.weight());
        weights.add(c.bias());
        s.append("        ").append(out).append(" = torch.conv2d(").append(in)
                .append(", w[").append(at).append("], w[").append(at + 1).append("], ")
                .append(pair(c.stride())).append(", ").append(pair(c.padding())).append(")\n");
        if (c.relu()) {
            s.append("        ").append(out).append(" = torch.relu_(").append(out).append(")\n");
        }
    }

    /** A TorchScript int list of a 2-d shape. */
    static String pair(Shape shape) {
        return "[" + shape.get(0) + ", " + shape.get(1) + "]";
    }

    /**
     * libtorch's {@code c10::MemoryFormat::ChannelsLast}. Activations and convolution weights in NHWC
     * order: oneDNN's convolutions need no layout reorders and max-pool vectorises over channels.
     * Measured here: 1.5x the images/s of NCHW in fp32, 1.8x in bf16 (PyTorch gains alike).
     */
    static final int CHANNELS_LAST = 2;

    /** Stores the weights once, in the compute precision, convolution weights channels-last. */
    private static String setWeights(Precision precision) {
        String cast = precision == Precision.FP32 ? "t" : "torch.to(t, " + precision.scalarType + ")";
        return "    def set_weights(self, ws: List[Tensor]) -> int:\n"
                + "        stored: List[Tensor] = []\n"
                + "        for t in ws:\n"
                + "            u = " + cast + "\n"
                + "            if u.dim() == 4:\n"
                + "                u = torch.contiguous(u, memory_format=" + CHANNELS_LAST + ")\n"
                + "            stored.append(u)\n"
                + "        self.w = stored\n"
                + "        return len(self.w)\n";
    }
}
