package dev.petal.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.Normalization;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The int8 graph: its levels as ONNX defines them, and what ONNX Runtime makes of it. */
class OnnxGraphInt8Test {
    private static final ModelSpec SPEC = new ModelSpec(Architecture.RESNET18, java.util.List.of("a", "b", "c"), 32, Stem.IMAGENET,
            Normalization.IMAGENET);

    /**
     * uint8 levels over a range widened to hold 0, as onnxruntime's quantization tool computes them (its
     * {@code compute_scale_zp}): scale = (max - min) / 255, zero point = round(-min / scale).
     */
    @Test
    void levelsAreOnnxRuntimesAsymmetricUint8() {
        OnnxGraph.Levels signed = OnnxGraph.Levels.of(new ActivationRanges.Range(-1f, 3f), false);
        assertEquals(4f / 255, signed.scale(), 1e-9);
        assertEquals(64, signed.zeroPoint()); // 63.75 rounds up
        OnnxGraph.Levels positive = OnnxGraph.Levels.of(new ActivationRanges.Range(0.5f, 2f), false);
        assertEquals(2f / 255, positive.scale(), 1e-9);
        assertEquals(0, positive.zeroPoint());
        OnnxGraph.Levels afterRelu = OnnxGraph.Levels.of(new ActivationRanges.Range(-2f, 6f), true);
        assertEquals(6f / 255, afterRelu.scale(), 1e-9);
        assertEquals(0, afterRelu.zeroPoint(), "after a ReLU the levels start at 0");
        OnnxGraph.Levels zeros = OnnxGraph.Levels.of(new ActivationRanges.Range(0f, 0f), false);
        assertEquals(0, zeros.zeroPoint());
    }

    /**
     * The point of the QDQ form: ONNX Runtime fuses every convolution with its quantize pairs into an integer
     * convolution (QLinearConv) and each residual sum into an integer add, leaving no float convolution behind; with the
     * weights stored either way.
     */
    @ParameterizedTest
    @EnumSource(OnnxGraph.WeightStorage.class)
    void onnxRuntimeRunsEveryConvolutionAndSumOnIntegers(OnnxGraph.WeightStorage storage, @TempDir Path dir) throws Exception {
        PyTorchEngine.get();
        LayerPlan plan = SPEC.plan();
        Map<String, ActivationRanges.Range> sites = new HashMap<>();
        sites.put(ActivationRanges.INPUT, new ActivationRanges.Range(-2.2f, 2.7f));
        Random random = new Random(3);
        for (String site : OnnxGraph.sites(plan)) {
            sites.put(site, new ActivationRanges.Range(-random.nextFloat() * 4, 1 + random.nextFloat() * 4));
        }
        Path optimised = dir.resolve("optimised.onnx");
        try (NDManager manager = NDManager.newBaseManager();
             ModelParameters params = ModelParameters.initialised(plan, manager, false);
             OrtSession.SessionOptions options = OnnxServingProgram.options(1)) {
            options.setOptimizedModelFilePath(optimised.toString());
            OnnxGraph.quantized(params, new ActivationRanges(sites), storage,
                    model -> OrtEnvironment.getEnvironment().createSession(model, options)).close();
        }
        String ops = new String(Files.readAllBytes(optimised), StandardCharsets.ISO_8859_1);
        assertEquals(plan.convUnits().size(), count(ops, "QLinearConv"), "integer convolutions");
        assertEquals(plan.blocks().size(), count(ops, "QLinearAdd"), "integer residual sums");
        assertEquals(0, count(ops, "FusedConv") + count(ops, "Conv"), "float convolutions left");
    }

    /** Node op types, as protobuf writes them: the field tag, the length, the name. */
    private static int count(String graph, String opType) {
        Matcher m = Pattern.compile("\"" + (char) opType.length() + Pattern.quote(opType)).matcher(graph);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
