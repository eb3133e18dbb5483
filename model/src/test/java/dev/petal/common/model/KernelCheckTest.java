package dev.petal.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.petal.common.engine.PyTorchEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The self-check's plumbing with a probe that really kills its process: the check blames that probe,
 * routes its shape to the matrix product, keeps the verdict, and this JVM (the "service") goes on and
 * computes the right answer.
 */
class KernelCheckTest {
    @TempDir
    Path cache;

    @AfterEach
    void clearProperties() {
        System.clearProperty("petal.kernel-check.cache-dir");
        System.clearProperty(KernelProbe.INJECT_CRASH);
    }

    @Test
    void aProbeThatKillsItsProcessSendsItsShapeToTheMatrixProductAndTheCallerLivesOn() throws Exception {
        PyTorchEngine.get();
        System.setProperty("petal.kernel-check.cache-dir", cache.toString());
        LayerPlan plan = LayerPlan.of(Architecture.RESNET18, Stem.SMALL, 3, 16);
        LayerPlan.Shape victim = new LayerPlan.Shape(128, 256, 1, 2, 0, 1, 8);
        assertTrue(plan.convolutionShapes().contains(victim));
        // The native probe of that shape dies by SIGKILL, as oneDNN's SIGFPE kills it on hosts that hide their caches.
        System.setProperty(KernelProbe.INJECT_CRASH, "serving/fp32/native/128-256-1-2-0-1-8/");

        Map<LayerPlan.Shape, ConvolutionRoute> routes = KernelCheck.routes(plan, Precision.FP32, KernelCheck.Use.SERVING, Device.cpu());

        assertEquals(ConvolutionRoute.GEMM, routes.get(victim), routes.toString());
        Path[] files = Files.list(cache).toArray(Path[]::new);
        assertEquals(1, files.length);
        Properties verdicts = new Properties();
        try (var in = Files.newBufferedReader(files[0])) {
            verdicts.load(in);
        }
        assertTrue(verdicts.getProperty("serving/fp32/native/128-256-1-2-0-1-8/b1").startsWith("crash signal 9"), verdicts.toString());
        assertTrue(verdicts.getProperty("serving/fp32/gemm/128-256-1-2-0-1-8/b1").startsWith("ok"), verdicts.toString());

        // Verdicts are reused: with the crash no longer injected, the kept verdict still routes the shape.
        System.clearProperty(KernelProbe.INJECT_CRASH);
        long before = Files.getLastModifiedTime(files[0]).toMillis();
        assertEquals(routes, KernelCheck.routes(plan, Precision.FP32, KernelCheck.Use.SERVING, Device.cpu()));
        assertEquals(before, Files.getLastModifiedTime(files[0]).toMillis(), "nothing probed again");

        // The survivor computes: the program with that shape as a matrix product runs and gives finite logits.
        try (NDManager manager = NDManager.newBaseManager();
             ModelParameters params = ModelParameters.initialised(plan, manager, false);
             ServingProgram program = ServingProgram.of(params, Precision.FP32, routes, manager)) {
            float[] logits = program.logits(manager.randomNormal(new ai.djl.ndarray.types.Shape(2, 3, 16, 16))).toFloatArray();
            for (float v : logits) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void keysRoundTrip() {
        KernelCheck.Probe probe = new KernelCheck.Probe(KernelCheck.Use.TRAINING, Precision.BF16, ConvolutionRoute.GEMM,
                new LayerPlan.Shape(64, 128, 3, 2, 1, 32, 56), 2);
        assertEquals(probe, KernelCheck.Probe.parse(probe.key()));
    }
}
