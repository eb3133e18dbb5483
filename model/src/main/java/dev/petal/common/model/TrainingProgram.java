package dev.petal.common.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.petal.common.engine.GradModeOff;
import dev.petal.common.engine.TorchScriptArchive;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A network's training step forward, generated from its {@link LayerPlan} as one TorchScript program
 * over its {@link ModelParameters}: training-mode BatchNorm (batch statistics; the running ones updated
 * in place with PyTorch's momentum 0.1), in-place ReLUs and residual sums as torchvision has them,
 * channels-last activations, and the cross-entropy loss (with optional label smoothing). One native call
 * per step instead of one per op. Autograd records through it, so the loss differentiates with respect
 * to the parameters themselves.
 *
 * <p>In {@link Precision#BF16} it is mixed precision as PyTorch's autocast does it on a CPU: the
 * parameters stay fp32 (the optimizer updates fp32 master weights), each step casts them to bf16 for
 * the convolutions, BatchNorm keeps fp32 statistics and affine parameters, and the head and the loss
 * are fp32.
 *
 * <p>The convolution weights are re-laid channels-last once, in place, when the program is compiled
 * (as {@code model.to(memory_format=torch.channels_last)}); otherwise every step would copy each weight
 * into that layout and its gradient back.
 */
public final class TrainingProgram implements AutoCloseable {
    private static final String CLASS_NAME = "PetalTraining";
    /** The names DJL's {@link IValueUtils#forward} reads as "put this array into list ps / rs". */
    private static final String TRAINABLE_LIST = "ps[]";
    private static final String STATISTICS_LIST = "rs[]";
    /** PyTorch's BatchNorm defaults, which torchvision's ResNet uses. */
    static final double NORM_MOMENTUM = 0.1;
    static final double NORM_EPSILON = 1e-5;

    private final PtSymbolBlock module;
    private final List<NDArray> trainable;
    private final List<NDArray> statistics;
    private final Precision precision;

    private TrainingProgram(PtSymbolBlock module, List<NDArray> trainable, List<NDArray> statistics, Precision precision) {
        this.module = module;
        this.trainable = trainable;
        this.statistics = statistics;
        this.precision = precision;
    }

    /**
     * Compiles the training forward of {@code params} in {@code manager}.
     *
     * @param routes         how each convolution shape is computed (absent: {@link ConvolutionRoute#NATIVE})
     * @param labelSmoothing the cross-entropy's label smoothing, 0 for none
     */
    public static TrainingProgram of(ModelParameters params, Precision precision, Map<LayerPlan.Shape, ConvolutionRoute> routes,
            float labelSmoothing, NDManager manager) {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), was " + labelSmoothing);
        }
        Writer w = new Writer(params, precision, routes, literal(NORM_MOMENTUM));
        w.forwardToLogits();
        w.line("loss = torch.cross_entropy_loss(logits, y, None, 1, -100, " + literal(labelSmoothing) + ")");
        w.line("return (loss, logits)");
        String methods = "    def forward(self, x: Tensor, y: Tensor, ps: List[Tensor], rs: List[Tensor]) -> Tuple[Tensor, Tensor]:\n"
                + w.body + RELAYOUT_METHOD + ConvolutionRoute.GEMM_METHOD;
        return compile(w, methods, precision, manager);
    }

    /**
     * The same forward without the loss, for re-estimating the BatchNorm running statistics at its plan's input
     * size ({@link #updateStatistics}): each call's momentum is given, so a pass can weigh its batches equally.
     */
    public static TrainingProgram forStatistics(ModelParameters params, Precision precision, Map<LayerPlan.Shape, ConvolutionRoute> routes,
            NDManager manager) {
        Writer w = new Writer(params, precision, routes, "momentum");
        w.line("momentum = float(m)");
        w.forwardToLogits();
        w.line("return logits");
        String methods = "    def forward(self, x: Tensor, m: Tensor, ps: List[Tensor], rs: List[Tensor]) -> Tensor:\n"
                + w.body + RELAYOUT_METHOD + ConvolutionRoute.GEMM_METHOD;
        return compile(w, methods, precision, manager);
    }

    private static TrainingProgram compile(Writer w, String methods, Precision precision, NDManager manager) {
        PtSymbolBlock module = TorchScriptArchive.load(manager, CLASS_NAME, methods);
        layOutChannelsLast(module, w.trainable.stream().filter(p -> p.getShape().dimension() == 4).toList());
        return new TrainingProgram(module, w.trainable, w.statistics, precision);
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
            """.formatted(ServingProgram.CHANNELS_LAST);

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
     * The mean loss and the training-mode logits of an NCHW float32 batch {@code x} with int64
     * {@code labels}, in {@code x}'s manager, recorded by autograd when gradients are on; updates the
     * BatchNorm running statistics.
     */
    public NDList lossAndLogits(NDArray x, NDArray labels) {
        return run(x, labels);
    }

    /**
     * Runs a {@link #forStatistics} program on an NCHW float32 batch {@code x}: each BatchNorm's running
     * statistics become {@code (1 - momentum) * running + momentum * batch} (PyTorch's rule, the variance
     * unbiased). Call it with gradients off; the logits it returns are training-mode ones.
     */
    public NDList updateStatistics(NDArray x, float momentum) {
        try (NDArray m = x.getManager().create(momentum)) {
            return run(x, m);
        }
    }

    private NDList run(NDArray x, NDArray second) {
        JniUtils.setGraphExecutorOptimize(false); // per thread; the interpreter alone, no profiling runs
        NDList inputs = new NDList(trainable.size() + statistics.size() + 2);
        inputs.add(x);
        inputs.add(second);
        List<String> names = new ArrayList<>();
        // DJL passes a list argument as arrays named "<list>[]"; the parameters' own names are put back at once.
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
            return IValueUtils.forward(module, inputs, true);
        } finally {
            for (int i = 0; i < names.size(); i++) {
                inputs.get(i + 2).setName(names.get(i));
            }
        }
    }

    @Override
    public void close() {
        module.close();
    }

    /** A float or double as a TorchScript float literal, in full (no exponent, always with a point). */
    static String literal(double value) {
        String text = new BigDecimal(value).toPlainString();
        return text.contains(".") ? text : text + ".0";
    }

    /** The program's source, and the arrays it indexes as {@code ps[i]} and {@code rs[i]}, in order. */
    private static final class Writer {
        final ModelParameters params;
        final Precision precision;
        final Map<LayerPlan.Shape, ConvolutionRoute> routes;
        final StringBuilder body = new StringBuilder();
        final List<NDArray> trainable = new ArrayList<>();
        final List<NDArray> statistics = new ArrayList<>();
        final Map<String, String> indexed = new HashMap<>();

        /** The BatchNorms' momentum: a literal, or the name of a variable of the program. */
        final String momentum;

        Writer(ModelParameters params, Precision precision, Map<LayerPlan.Shape, ConvolutionRoute> routes, String momentum) {
            this.params = params;
            this.precision = precision;
            this.routes = routes;
            this.momentum = momentum;
        }

        /** The network from input {@code x} to {@code logits} (fp32), one definition for training and for statistics. */
        void forwardToLogits() {
            LayerPlan plan = params.plan();
            line("h = torch.contiguous(" + in("x") + ", memory_format=" + ServingProgram.CHANNELS_LAST + ")");
            conv("h", "h", plan.stem());
            if (plan.stemPool()) {
                // The ReLU commutes with the max-pool (monotone, -inf padding), values and gradients alike:
                // after it, the ReLU and its saved output cover a quarter of the elements.
                line("h = torch.max_pool2d(h, [3, 3], [2, 2], [1, 1], [1, 1])");
            }
            line("h = torch.relu_(h)");
            for (LayerPlan.Block block : plan.blocks()) {
                String input = "h";
                for (LayerPlan.ConvUnit unit : block.main()) {
                    conv("o", input, unit);
                    if (unit.relu()) {
                        line("o = torch.relu_(o)");
                    }
                    input = "o";
                }
                if (block.shortcut() != null) {
                    conv("h", "h", block.shortcut());
                }
                line("o = torch.add_(o, h)");
                line("h = torch.relu_(o)");
            }
            LayerPlan.Head head = plan.head();
            line("h = torch.flatten(torch.adaptive_avg_pool2d(h, [1, 1]), 1)");
            if (precision != Precision.FP32) {
                line("h = torch.to(h, " + Precision.FP32.scalarType + ")");
            }
            line("logits = torch.linear(h, " + trainable(head.name() + ".weight") + ", " + trainable(head.name() + ".bias") + ")");
        }

        void line(String code) {
            body.append("        ").append(code).append('\n');
        }

        /** {@code value} in the compute precision (a differentiable cast in bf16). */
        String in(String value) {
            return precision == Precision.FP32 ? value : "torch.to(" + value + ", " + precision.scalarType + ")";
        }

        String trainable(String name) {
            return indexed.computeIfAbsent(name, n -> {
                trainable.add(params.get(n));
                return "ps[" + (trainable.size() - 1) + "]";
            });
        }

        String statistic(String name) {
            return indexed.computeIfAbsent(name, n -> {
                statistics.add(params.get(n));
                return "rs[" + (statistics.size() - 1) + "]";
            });
        }

        /** out = batch_norm(conv(in)) of a plan unit; the ReLU is the caller's. */
        void conv(String out, String in, LayerPlan.ConvUnit unit) {
            LayerPlan.Convolution c = unit.conv();
            String weight = in(trainable(c.name() + ".weight")); // channels-last, and a bf16 cast keeps that layout
            if (routes.getOrDefault(c.shape(), ConvolutionRoute.NATIVE) == ConvolutionRoute.GEMM) {
                line(out + " = self.conv_gemm(" + in + ", " + weight + ", None, " + c.stride() + ", " + c.padding() + ", "
                        + c.groups() + ")");
            } else {
                line(out + " = torch.conv2d(" + in + ", " + weight + ", None, [" + c.stride() + ", " + c.stride() + "], ["
                        + c.padding() + ", " + c.padding() + "], [1, 1], " + c.groups() + ")");
            }
            String n = unit.norm();
            line(out + " = torch.batch_norm(" + out + ", " + trainable(n + ".weight") + ", " + trainable(n + ".bias") + ", "
                    + statistic(n + ".running_mean") + ", " + statistic(n + ".running_var") + ", True, "
                    + momentum + ", " + literal(NORM_EPSILON) + ", True)");
        }
    }
}
