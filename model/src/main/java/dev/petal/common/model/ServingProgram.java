package dev.petal.common.model;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.petal.common.engine.GradModeOff;
import dev.petal.common.engine.TorchScriptArchive;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A network's evaluation-mode forward, generated from its {@link LayerPlan} as one TorchScript program:
 * what inference serves and what the trainer validates with. At inference a BatchNorm is a fixed
 * per-channel scale and shift, so each one is folded into the convolution before it (one op instead of
 * two, one pass less over the activations). Activations and weights are channels-last, and the network
 * can compute in {@link Precision#BF16}: DJL 0.36 cannot hold a bfloat16 tensor, so the casts live inside
 * the program (fp32 in, fp32 logits out).
 *
 * <p>On a CPU the convolutions are oneDNN's fused ones, the kernels {@code torch.compile} uses there
 * ({@code mkldnn::_convolution_pointwise}): the ReLU and the residual sum happen inside the convolution,
 * and each weight is re-laid once, at load, in the blocked format oneDNN reads. Shapes that
 * {@link KernelCheck} found wrong on this host take the {@link ConvolutionRoute#GEMM} route instead.
 */
public final class ServingProgram implements AutoCloseable {
    private static final String CLASS_NAME = "PetalServing";
    private static final System.Logger LOG = System.getLogger(ServingProgram.class.getName());

    /**
     * libtorch's {@code c10::MemoryFormat::ChannelsLast}: activations and convolution weights in NHWC
     * order, which oneDNN's convolutions read without reorders (docs/performance.md).
     */
    public static final int CHANNELS_LAST = 2;

    /** Which kernels the program's native convolutions call. */
    enum Kernels {
        /** {@code torch.conv2d}, then the ReLU and the residual sum as separate in-place ops: any device. */
        PORTABLE,
        /** oneDNN's fused convolutions, CPU only. */
        ONEDNN
    }

    private final PtSymbolBlock module;
    private final Precision precision;
    private final Kernels kernels;

    private ServingProgram(PtSymbolBlock module, Precision precision, Kernels kernels) {
        this.module = module;
        this.precision = precision;
        this.kernels = kernels;
    }

    /**
     * Folds and compiles {@code params} for {@code precision} in {@code manager}, with oneDNN's fused
     * kernels on a CPU (the portable program where this libtorch lacks them). The program keeps its own
     * folded copy of the weights: {@code params} can be closed.
     *
     * @param routes how each convolution shape is computed (absent: {@link ConvolutionRoute#NATIVE})
     */
    public static ServingProgram of(ModelParameters params, Precision precision, Map<LayerPlan.Shape, ConvolutionRoute> routes,
            NDManager manager) {
        if (!manager.getDevice().isGpu()) {
            try {
                return of(params, precision, routes, Kernels.ONEDNN, manager);
            } catch (EngineException e) {
                LOG.log(System.Logger.Level.WARNING, "this libtorch has no oneDNN fused convolutions ("
                        + String.valueOf(e.getMessage()).strip().lines().findFirst().orElse("") + "); using the portable program");
            }
        }
        return of(params, precision, routes, Kernels.PORTABLE, manager);
    }

    static ServingProgram of(ModelParameters params, Precision precision, Map<LayerPlan.Shape, ConvolutionRoute> routes,
            Kernels kernels, NDManager manager) {
        try (NDManager folding = manager.newSubManager(); GradModeOff off = new GradModeOff()) {
            Program program = new Program(params, precision, routes, kernels, folding);
            String source = program.source();
            PtSymbolBlock module = TorchScriptArchive.load(manager, CLASS_NAME, source);
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
            // The folded arrays close with `folding`: the program holds its own (cast, re-laid) copies.
            return new ServingProgram(module, precision, kernels);
        }
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
        try (GradModeOff off = new GradModeOff(); IValue input = IValue.from((PtNDArray) x); IValue output = module.forward(input)) {
            return output.toTensor((PtNDManager) x.getManager());
        }
    }

    @Override
    public void close() {
        module.close();
    }

    /**
     * The program's source: {@code forward} unrolls the plan and indexes the folded weights as
     * {@code w[i]}, in order; {@code set_weights} stores them.
     */
    private static final class Program {
        private final ModelParameters params;
        private final Precision precision;
        private final Map<LayerPlan.Shape, ConvolutionRoute> routes;
        private final Kernels kernels;
        private final NDManager folding;
        private final StringBuilder source = new StringBuilder();
        final List<NDArray> weights = new ArrayList<>();
        /** set_weights' statements that re-lay a convolution weight for oneDNN ({@link Kernels#ONEDNN} only). */
        private final List<String> relayouts = new ArrayList<>();

        Program(ModelParameters params, Precision precision, Map<LayerPlan.Shape, ConvolutionRoute> routes, Kernels kernels,
                NDManager folding) {
            this.params = params;
            this.precision = precision;
            this.routes = routes;
            this.kernels = kernels;
            this.folding = folding;
        }

        String source() {
            LayerPlan plan = params.plan();
            line("def forward(self, x: Tensor) -> Tensor:");
            line("    w = self.w");
            line(precision == Precision.FP32 ? "    h = x" : "    h = torch.to(x, " + precision.scalarType + ")");
            line("    h = torch.contiguous(h, memory_format=" + CHANNELS_LAST + ")");
            if (plan.stemPool()) {
                // The ReLU commutes with the max-pool: fused into the convolution it is free, alone it
                // runs on the pooled quarter.
                boolean fused = fusable(plan.stem());
                conv("h", "h", plan.stem(), fused);
                line("    h = torch.max_pool2d(h, [3, 3], [2, 2], [1, 1], [1, 1])");
                if (!fused) {
                    line("    h = torch.relu_(h)");
                }
            } else {
                conv("h", "h", plan.stem(), true);
            }
            for (LayerPlan.Block block : plan.blocks()) {
                residual(block);
            }
            LayerPlan.Head head = plan.head();
            line("    h = torch.flatten(torch.adaptive_avg_pool2d(h, [1, 1]), 1)");
            line("    h = torch.linear(h, " + weight(params.get(head.name() + ".weight")) + ", "
                    + weight(params.get(head.name() + ".bias")) + ")");
            line(precision == Precision.FP32 ? "    return h" : "    return torch.to(h, 6)");
            setWeights();
            return source + ConvolutionRoute.GEMM_METHOD;
        }

        /** Whether a unit runs on oneDNN's fused kernels (which can apply its ReLU and a residual sum). */
        private boolean fusable(LayerPlan.ConvUnit unit) {
            return kernels == Kernels.ONEDNN && route(unit) == ConvolutionRoute.NATIVE;
        }

        private ConvolutionRoute route(LayerPlan.ConvUnit unit) {
            return routes.getOrDefault(unit.conv().shape(), ConvolutionRoute.NATIVE);
        }

        /** relu(main(h) + shortcut(h)), leaving the result in {@code h}. */
        private void residual(LayerPlan.Block block) {
            List<LayerPlan.ConvUnit> main = block.main();
            String input = "h";
            for (LayerPlan.ConvUnit unit : main.subList(0, main.size() - 1)) {
                conv("o", input, unit, unit.relu());
                input = "o";
            }
            if (block.shortcut() != null) {
                conv("h", "h", block.shortcut(), false);
            }
            LayerPlan.ConvUnit last = main.get(main.size() - 1);
            if (fusable(last)) {
                // h = relu(conv(o) + h), written into h (the block's input or its shortcut, both dead after this).
                line("    h = ops.mkldnn._convolution_pointwise_(h, " + input + ", " + fused(last)
                        + ", \"add\", 1.0, \"relu\", " + NO_SCALARS + ", None)");
            } else {
                conv("o", input, last, false);
                line("    o = torch.add_(o, h)");
                line("    h = torch.relu_(o)");
            }
        }

        private void conv(String out, String in, LayerPlan.ConvUnit unit, boolean relu) {
            LayerPlan.Convolution c = unit.conv();
            if (fusable(unit)) {
                line("    " + out + " = ops.mkldnn._convolution_pointwise(" + in + ", " + fused(unit) + ", \""
                        + (relu ? "relu" : "none") + "\", " + NO_SCALARS + ", None)");
                return;
            }
            String[] wb = folded(unit);
            if (route(unit) == ConvolutionRoute.GEMM) {
                line("    " + out + " = self.conv_gemm(" + in + ", " + wb[0] + ", " + wb[1] + ", " + c.stride() + ", "
                        + c.padding() + ", " + c.groups() + ")");
            } else {
                line("    " + out + " = torch.conv2d(" + in + ", " + wb[0] + ", " + wb[1] + ", [" + c.stride() + ", " + c.stride()
                        + "], [" + c.padding() + ", " + c.padding() + "], [1, 1], " + c.groups() + ")");
            }
            if (relu) {
                line("    " + out + " = torch.relu_(" + out + ")");
            }
        }

        /**
         * The weight, bias and geometry arguments of a oneDNN fused convolution (padding before stride,
         * then dilation and groups), its weight re-laid at load for channels-last batches of its input size.
         */
        private String fused(LayerPlan.ConvUnit unit) {
            LayerPlan.Convolution c = unit.conv();
            int at = weights.size();
            String[] wb = folded(unit);
            String geometry = "[" + c.padding() + ", " + c.padding() + "], [" + c.stride() + ", " + c.stride() + "], [1, 1], "
                    + c.groups();
            relayouts.add("    stored[" + at + "] = ops.mkldnn._reorder_convolution_weight(stored[" + at + "], " + geometry
                    + ", [1, " + c.inChannels() + ", " + c.inputSize() + ", " + c.inputSize() + "])");
            return wb[0] + ", " + wb[1] + ", " + geometry;
        }

        /** The unit's convolution with its BatchNorm folded in: {@code w[i]} and {@code w[i + 1]}, weight and bias. */
        private String[] folded(LayerPlan.ConvUnit unit) {
            // Closed with `folding`, after compiling: the program keeps its own copies.
            ModelParameters.FoldedConvolution f = params.folded(unit, folding);
            return new String[] {weight(f.weight()), weight(f.bias())};
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
}
