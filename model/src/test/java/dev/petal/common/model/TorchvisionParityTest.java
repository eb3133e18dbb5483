package dev.petal.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.engine.GradModeOff;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.engine.TorchScriptArchive;
import dev.petal.common.image.Normalization;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Petal's networks against real torchvision: {@code golden/torchvision_resnet.json} holds what
 * torchvision 0.14 computed in float64 (the script beside it, {@code torchvision_resnet.py}, made it)
 * for resnet18 (BasicBlock), resnet50 (Bottleneck) and resnext50_32x4d (grouped Bottleneck) with
 * weights from a closed formula, which this test builds again. The parameter names and shapes must be
 * torchvision's exactly; the serving program (evaluation mode) and the training program (training mode:
 * logits, loss, running statistics, gradients) must match its numbers on every route Petal can choose:
 * the routes the kernel self-check picks on this host, and every convolution as a matrix product.
 */
class TorchvisionParityTest {
    private static final double FP32_TOLERANCE = 1e-4;
    /**
     * Gradients come back through up to 50 layers of training-mode BatchNorm over a batch of two, in fp32:
     * PyTorch 1.13's own fp32 (channels-last) is 5.5e-3 off its float64 in the L2 norm of resnet50's
     * conv1.weight gradient here, and its sum 8.7e-2 of that norm off. Twice that for the norm, and the sum and first
     * values against the norm, catch a wrong kernel (off by half its range) or a wrong mapping.
     */
    private static final double GRADIENT_TOLERANCE = 1e-2;
    private static final double GRADIENT_VALUE_TOLERANCE = 0.2;
    /** bf16 keeps 8 bits of mantissa: about 0.4% per rounding, a few percent through 50 layers. */
    private static final double BF16_TOLERANCE = 0.1;
    private static final double INT8_TOLERANCE = 0.05;
    private static JsonNode golden;

    @BeforeAll
    static void loadGolden() throws IOException {
        PyTorchEngine.get();
        try (InputStream in = TorchvisionParityTest.class.getResourceAsStream("/golden/torchvision_resnet.json")) {
            golden = new ObjectMapper().readTree(in);
        }
    }

    enum Routes { CHECKED, ALL_GEMM }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (String arch : List.of("resnet18", "resnet50", "resnext50_32x4d")) {
            for (Routes routes : Routes.values()) {
                cases.add(Arguments.of(arch, routes));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}, {1} routes")
    @MethodSource("cases")
    void servingProgramMatchesTorchvisionInEvaluationMode(String arch, Routes routes) {
        JsonNode expected = golden.path("models").path(arch);
        LayerPlan plan = spec(arch).plan();
        assertNamesAndShapesAreTorchvisions(plan, expected);
        try (NDManager manager = NDManager.newBaseManager();
             ModelParameters params = formulaParameters(plan, manager)) {
            NDArray x = image(manager);
            for (Precision precision : List.of(Precision.FP32, Precision.BF16)) {
                try (ServingProgram program = ServingProgram.of(params, precision, routes(plan, precision, KernelCheck.Use.SERVING, routes),
                        manager)) {
                    double tolerance = precision == Precision.FP32 ? FP32_TOLERANCE : BF16_TOLERANCE;
                    assertClose(arch + " " + precision.id() + " evaluation logits", matrix(expected.path("evalLogits")),
                            program.logits(x).toFloatArray(), tolerance);
                }
            }
        }
    }

    /** The other serving runtime: the ONNX graph Petal writes from the same weights, run by ONNX Runtime (fp32). */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"resnet18", "resnet50", "resnext50_32x4d"})
    void onnxRuntimeProgramMatchesTorchvisionInEvaluationMode(String arch) {
        JsonNode expected = golden.path("models").path(arch);
        LayerPlan plan = spec(arch).plan();
        try (NDManager manager = NDManager.newBaseManager();
             ModelParameters params = formulaParameters(plan, manager);
             OnnxServingProgram program = OnnxServingProgram.of(params, 2)) {
            NDArray x = image(manager);
            assertClose(arch + " ONNX Runtime evaluation logits", matrix(expected.path("evalLogits")),
                    program.logits(x.toFloatArray(), Math.toIntExact(x.getShape().get(0))), FP32_TOLERANCE);
        }
    }

    /**
     * Int8 on ONNX Runtime, calibrated on the batch it scores, against torchvision's float64: each activation is rounded
     * to 1 of 256 levels of its range and each weight to 1 of 255 of its channel's, so about 0.4% of a range per
     * rounding, compounding through the layers (hence a few percent, as bf16), and every label must stay the same.
     */
    @ParameterizedTest(name = "{0}, weights {1}")
    @CsvSource({"resnet18, SIGNED", "resnet18, OFFSET", "resnet50, SIGNED", "resnet50, OFFSET", "resnext50_32x4d, SIGNED",
            "resnext50_32x4d, OFFSET"})
    void int8ProgramStaysWithinRoundingOfTorchvision(String arch, OnnxGraph.WeightStorage storage) {
        JsonNode expected = golden.path("models").path(arch);
        LayerPlan plan = spec(arch).plan();
        try (NDManager manager = NDManager.newBaseManager();
             ModelParameters params = formulaParameters(plan, manager)) {
            NDArray x = image(manager);
            int batch = Math.toIntExact(x.getShape().get(0));
            ActivationRanges ranges;
            try (Int8Calibration calibration = Int8Calibration.of(params, 2)) {
                calibration.add(x.toFloatArray(), batch);
                ranges = calibration.ranges();
            }
            assertEquals(OnnxGraph.sites(plan).size() + 1, ranges.sites().size(), "a range for the input and each site");
            try (OnnxServingProgram program = OnnxServingProgram.of(params, ranges, storage, 2)) {
                double[] golden = matrix(expected.path("evalLogits"));
                float[] logits = program.logits(x.toFloatArray(), batch);
                assertClose(arch + " int8 evaluation logits", golden, logits, INT8_TOLERANCE);
                int classes = golden.length / batch;
                for (int i = 0; i < batch; i++) {
                    assertEquals(argmax(golden, i * classes, classes), argmax(logits, i * classes, classes), arch + " image " + i + "'s label");
                }
            }
        }
    }

    private static int argmax(double[] values, int from, int n) {
        int best = from;
        for (int i = from; i < from + n; i++) {
            best = values[i] > values[best] ? i : best;
        }
        return best - from;
    }

    private static int argmax(float[] values, int from, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = values[from + i];
        }
        return argmax(d, 0, n);
    }

    @ParameterizedTest(name = "{0}, {1} routes")
    @MethodSource("cases")
    void trainingProgramMatchesTorchvisionInTrainingMode(String arch, Routes routes) {
        JsonNode expected = golden.path("models").path(arch);
        LayerPlan plan = spec(arch).plan();
        try (NDManager manager = NDManager.newBaseManager();
             ModelParameters params = formulaParameters(plan, manager)) {
            params.requireGradients();
            NDArray x = image(manager);
            NDArray labels = manager.create(new long[] {1, 3});
            Map<LayerPlan.Shape, ConvolutionRoute> chosen = routes(plan, Precision.FP32, KernelCheck.Use.TRAINING, routes);
            try (TrainingProgram smoothed = TrainingProgram.of(params, Precision.FP32, chosen, 0.1f, manager);
                 GradModeOff off = new GradModeOff()) {
                assertClose(arch + " smoothed loss", new double[] {expected.path("smoothedLoss").asDouble()},
                        new float[] {smoothed.lossAndLogits(x, labels).get(0).getFloat()}, FP32_TOLERANCE);
            }
            resetStatistics(params); // that forward moved the running statistics
            try (TrainingProgram program = TrainingProgram.of(params, Precision.FP32, chosen, 0f, manager)) {
                JniUtils.setGradMode(true);
                NDList out;
                try {
                    out = program.lossAndLogits(x, labels);
                } finally {
                    JniUtils.setGradMode(false);
                }
                assertClose(arch + " training logits", matrix(expected.path("trainLogits")), out.get(1).toFloatArray(), FP32_TOLERANCE);
                assertClose(arch + " loss", new double[] {expected.path("loss").asDouble()}, new float[] {out.get(0).getFloat()},
                        FP32_TOLERANCE);
                expected.path("runningStatistics").fields().forEachRemaining(e -> {
                    float[] actual = params.get(e.getKey()).toFloatArray();
                    assertClose(arch + " " + e.getKey(), vector(e.getValue()), java.util.Arrays.copyOf(actual, e.getValue().size()),
                            FP32_TOLERANCE);
                });
                Map<String, NDArray> gradients = gradients(out.get(0), params, manager);
                expected.path("gradients").fields().forEachRemaining(e -> {
                    NDArray g = gradients.get(e.getKey());
                    double l2 = e.getValue().path("l2").asDouble();
                    double actualL2 = g.norm().getFloat();
                    assertEquals(l2, actualL2, GRADIENT_TOLERANCE * l2, arch + " gradient L2 of " + e.getKey());
                    assertEquals(e.getValue().path("sum").asDouble(), g.sum().getFloat(), GRADIENT_VALUE_TOLERANCE * l2,
                            arch + " gradient sum of " + e.getKey());
                    double[] first = vector(e.getValue().path("first"));
                    float[] actual = java.util.Arrays.copyOf(g.reshape(-1).toFloatArray(), 4);
                    for (int i = 0; i < first.length; i++) {
                        assertEquals(first[i], actual[i], GRADIENT_TOLERANCE * l2, arch + " gradient value " + i + " of " + e.getKey());
                    }
                });
            }
        }
    }

    private static Map<LayerPlan.Shape, ConvolutionRoute> routes(LayerPlan plan, Precision precision, KernelCheck.Use use, Routes routes) {
        if (routes == Routes.CHECKED) {
            return KernelCheck.routes(plan, precision, use, Device.cpu());
        }
        Map<LayerPlan.Shape, ConvolutionRoute> all = new LinkedHashMap<>();
        plan.convolutionShapes().forEach(s -> all.put(s, ConvolutionRoute.GEMM));
        return all;
    }

    static ModelSpec spec(String arch) {
        return new ModelSpec(Architecture.parse(arch), List.of("a", "b", "c", "d", "e"), golden.path("imageSize").asInt(),
                Stem.IMAGENET, Normalization.IMAGENET);
    }

    private static void assertNamesAndShapesAreTorchvisions(LayerPlan plan, JsonNode expected) {
        List<String> want = new ArrayList<>();
        expected.path("parameters").forEach(p -> want.add(p.path("name").asText() + " " + p.path("shape")));
        List<String> have = plan.parameters().stream()
                .map(p -> p.name() + " " + java.util.Arrays.toString(p.shape()).replace(" ", "")).toList();
        assertEquals(want, have);
    }

    /** The golden script's formula for every parameter, in torchvision's state_dict order. */
    static ModelParameters formulaParameters(LayerPlan plan, NDManager manager) {
        ModelParameters params = ModelParameters.initialised(plan, manager, false);
        List<LayerPlan.Parameter> list = plan.parameters();
        try (GradModeOff off = new GradModeOff()) {
            for (int t = 0; t < list.size(); t++) {
                LayerPlan.Parameter p = list.get(t);
                params.get(p.name()).set(formula(t, p));
            }
        }
        return params;
    }

    private static void resetStatistics(ModelParameters params) {
        List<LayerPlan.Parameter> list = params.plan().parameters();
        try (GradModeOff off = new GradModeOff()) {
            for (int t = 0; t < list.size(); t++) {
                LayerPlan.Parameter p = list.get(t);
                if (!p.trainable()) {
                    params.get(p.name()).set(formula(t, p));
                }
            }
        }
    }

    static float[] formula(int t, LayerPlan.Parameter p) {
        float[] values = new float[Math.toIntExact(p.size())];
        long[] s = p.shape();
        for (int i = 0; i < values.length; i++) {
            long h = (i * 0x9E3779B1L + t * 0x85EBCA77L + 0x165667B1L) & 0xFFFFFFFFL;
            h ^= h >>> 15;
            h = (h * 0x2C1B3C6DL) & 0xFFFFFFFFL;
            h ^= h >>> 12;
            double u = h / (double) (1L << 31) - 1;
            double v = switch (p.kind()) {
                case CONV_WEIGHT -> u * Math.sqrt(6.0 / (s[1] * s[2] * s[3]));
                case NORM_WEIGHT -> 1 + 0.2 * u;
                case NORM_BIAS, RUNNING_MEAN, LINEAR_BIAS -> 0.1 * u;
                case RUNNING_VAR -> 1 + 0.25 * (u + 1);
                case LINEAR_WEIGHT -> u / Math.sqrt(s[1]);
            };
            values[i] = (float) v;
        }
        return values;
    }

    /** x[n, c, h, w] = sin((0.05 + 0.02 n) h (c + 1) + 0.07 w + 0.9 n), as the golden script. */
    static NDArray image(NDManager manager) {
        int size = golden.path("imageSize").asInt();
        float[] x = new float[2 * 3 * size * size];
        int i = 0;
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 3; c++) {
                for (int h = 0; h < size; h++) {
                    for (int w = 0; w < size; w++) {
                        x[i++] = (float) Math.sin((0.05 + 0.02 * n) * h * (c + 1) + 0.07 * w + 0.9 * n);
                    }
                }
            }
        }
        return manager.create(x, new Shape(2, 3, size, size));
    }

    private static final String GRADIENTS = """
                def grads(self, loss: Tensor, ps: List[Tensor]) -> List[Tensor]:
                    seed: List[Optional[Tensor]] = [torch.ones_like(loss)]
                    out: List[Tensor] = []
                    for g in torch.autograd.grad([loss], ps, seed):
                        assert g is not None
                        out.append(g)
                    return out
            """;

    /** d loss / d parameter for every trainable parameter, as autograd gives them. */
    private static Map<String, NDArray> gradients(NDArray loss, ModelParameters params, NDManager manager) {
        PtSymbolBlock module = TorchScriptArchive.load(manager, "Gradients", GRADIENTS);
        try (IValue l = IValue.from((PtNDArray) loss);
             IValue ps = IValue.listFrom(params.trainable().stream().map(PtNDArray.class::cast).toArray(PtNDArray[]::new));
             IValue out = IValueUtils.runMethod(module, "grads", l, ps)) {
            PtNDArray[] grads = out.toTensorArray((PtNDManager) manager);
            Map<String, NDArray> byName = new LinkedHashMap<>();
            List<String> names = params.trainableNames();
            for (int i = 0; i < names.size(); i++) {
                byName.put(names.get(i), grads[i].toType(DataType.FLOAT32, false));
            }
            return byName;
        }
    }

    private static double[] matrix(JsonNode rows) {
        List<Double> values = new ArrayList<>();
        rows.forEach(row -> row.forEach(v -> values.add(v.asDouble())));
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double[] vector(JsonNode values) {
        double[] out = new double[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i).asDouble();
        }
        return out;
    }

    private static double maxAbs(double[] values) {
        double max = 1e-30;
        for (double v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }

    /** Every value within {@code tolerance} of the expected values' largest magnitude. */
    static void assertClose(String what, double[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, what + ": count");
        double scale = maxAbs(expected);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]) / scale);
        }
        assertTrue(worst <= tolerance, what + ": off by " + worst + " of the largest expected magnitude (allowed " + tolerance
                + "); expected " + java.util.Arrays.toString(expected) + ", got " + java.util.Arrays.toString(actual));
    }
}
