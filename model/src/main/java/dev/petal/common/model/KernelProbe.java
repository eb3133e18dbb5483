package dev.petal.common.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.engine.TorchScriptArchive;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * The child process of {@link KernelCheck}: runs each probe named on its command line and prints
 * {@code BEGIN <probe>} before and {@code RESULT <probe> <verdict>} after it, so that when a kernel kills
 * the process the parent knows which probe did. A probe computes one convolution shape on one route,
 * in one precision, on random inputs, and compares it with the same convolution computed in float64 by
 * ATen's reference kernels (not oneDNN's) from the same, precision-rounded inputs.
 */
public final class KernelProbe {
    /** Set in the parent, passed to the child: the probe whose key contains it kills its process (tests). */
    static final String INJECT_CRASH = "petal.kernel-check.inject-crash";
    private static final int TIMED_RUNS = 3;

    private static final String PROGRAM = """
                def serve(self, x: Tensor, w: Tensor, b: Tensor, cfg: List[int]) -> Tensor:
                    stride = cfg[0]
                    padding = cfg[1]
                    groups = cfg[2]
                    dtype = cfg[3]
                    gemm = cfg[4] == 1
                    x = torch.contiguous(torch.to(x, dtype), memory_format=2)
                    w = torch.contiguous(torch.to(w, dtype), memory_format=2)
                    b = torch.to(b, dtype)
                    if gemm:
                        y = self.conv_gemm(x, w, b, stride, padding, groups)
                    else:
                        w = ops.mkldnn._reorder_convolution_weight(w, [padding, padding], [stride, stride], [1, 1], groups, [1, x.size(1), x.size(2), x.size(3)])
                        y = ops.mkldnn._convolution_pointwise(x, w, b, [padding, padding], [stride, stride], [1, 1], groups, "none", annotate(List[Optional[number]], []), None)
                    return torch.to(y, 6)
                def forward(self, x: Tensor, w: Tensor, gy: Tensor, cfg: Tensor) -> List[Tensor]:
                    stride = int(cfg[0])
                    padding = int(cfg[1])
                    groups = int(cfg[2])
                    dtype = int(cfg[3])
                    gemm = int(cfg[4]) == 1
                    x = torch.detach(x).requires_grad_(True)
                    w = torch.detach(torch.contiguous(w, memory_format=2)).requires_grad_(True)
                    h = torch.contiguous(torch.to(x, dtype), memory_format=2)
                    k = torch.to(w, dtype)
                    if gemm:
                        y = self.conv_gemm(h, k, None, stride, padding, groups)
                    else:
                        y = torch.conv2d(h, k, None, [stride, stride], [padding, padding], [1, 1], groups)
                    go: List[Optional[Tensor]] = [torch.to(gy, dtype)]
                    grads = torch.autograd.grad([y], [x, w], go)
                    out: List[Tensor] = [torch.to(y, 6)]
                    for g in grads:
                        assert g is not None
                        out.append(torch.to(g, 6))
                    return out
                def reference(self, x: Tensor, w: Tensor, b: Tensor, gy: Tensor, cfg: List[int]) -> List[Tensor]:
                    stride = cfg[0]
                    padding = cfg[1]
                    groups = cfg[2]
                    dtype = cfg[3]
                    x = torch.to(torch.to(x, dtype), 7)
                    w = torch.to(torch.to(w, dtype), 7)
                    y = torch.conv2d(x, w, torch.to(torch.to(b, dtype), 7), [stride, stride], [padding, padding], [1, 1], groups)
                    out: List[Tensor] = [torch.to(y, 6)]
                    if gy.numel() > 0:
                        g = torch.to(torch.to(gy, dtype), 7)
                        out.append(torch.to(torch.conv_transpose2d(g, w, None, [stride, stride], [padding, padding], [x.size(2) + 2 * padding - w.size(2) - (g.size(2) - 1) * stride, x.size(3) + 2 * padding - w.size(3) - (g.size(3) - 1) * stride], groups), 6))
                        out.append(torch.to(self.weight_gradient(x, g, w, stride, padding, groups), 6))
                    return out
                def weight_gradient(self, x: Tensor, g: Tensor, w: Tensor, stride: int, padding: int, groups: int) -> Tensor:
                    kernel = w.size(2)
                    cols = torch.im2col(x, [kernel, kernel], [1, 1], [padding, padding], [stride, stride])
                    n = x.size(0)
                    k = w.size(0)
                    per_group = cols.size(1) // groups
                    cols_g = torch.reshape(cols, [n, groups, per_group, cols.size(2)])
                    g_g = torch.reshape(g, [n, groups, k // groups, g.size(2) * g.size(3)])
                    dw = torch.einsum("ngkl,ngcl->gkc", [g_g, cols_g])
                    return torch.reshape(dw, w.size())
            """;

    private KernelProbe() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        PrintStream out = System.out;
        PyTorchEngine.get();
        JniUtils.setGraphExecutorOptimize(false); // as the programs run: interpreted, without profiling runs
        String inject = System.getProperty(INJECT_CRASH, "");
        try (NDManager manager = NDManager.newBaseManager()) {
            PtSymbolBlock module = TorchScriptArchive.load(manager, "PetalKernelProbe", PROGRAM + ConvolutionRoute.GEMM_METHOD);
            for (String key : args) {
                out.println("BEGIN " + key);
                out.flush();
                if (!inject.isEmpty() && key.contains(inject)) {
                    // A kernel that kills its process, as oneDNN's SIGFPE does on hosts that hide their caches.
                    new ProcessBuilder("kill", "-KILL", Long.toString(ProcessHandle.current().pid())).start().waitFor();
                    Thread.sleep(60_000);
                }
                String verdict;
                try (NDManager scope = manager.newSubManager()) {
                    verdict = run(KernelCheck.Probe.parse(key), module, scope);
                } catch (RuntimeException e) {
                    verdict = "error " + String.valueOf(e.getMessage()).strip().lines().findFirst().orElse(e.getClass().getSimpleName())
                            .replaceAll("\\s+", " ");
                }
                out.println("RESULT " + key + " " + verdict);
                out.flush();
            }
        }
    }

    /** {@code ok <relative error> <microseconds>} or {@code wrong <relative error> <microseconds>}. */
    private static String run(KernelCheck.Probe probe, PtSymbolBlock module, NDManager m) {
        LayerPlan.Shape s = probe.shape();
        m.getEngine().setRandomSeed(7);
        int batch = probe.batch();
        NDArray x = m.randomNormal(new Shape(batch, s.inChannels(), s.inputSize(), s.inputSize()));
        NDArray w = m.randomNormal(0f, (float) Math.sqrt(2.0 / (s.inChannels() / s.groups() * s.kernel() * s.kernel())),
                new Shape(s.outChannels(), s.inChannels() / s.groups(), s.kernel(), s.kernel()), DataType.FLOAT32);
        NDArray b = m.randomNormal(0f, 0.1f, new Shape(s.outChannels()), DataType.FLOAT32);
        long[] cfg = {s.stride(), s.padding(), s.groups(), probe.precision().scalarType, probe.route() == ConvolutionRoute.GEMM ? 1 : 0};
        double tolerance = probe.precision() == Precision.FP32 ? 1e-4 : 2e-2;
        PtNDManager pm = (PtNDManager) m;
        if (probe.use() == KernelCheck.Use.SERVING) {
            long[] ends = batch == 1 ? new long[] {0} : new long[] {0, batch - 1};
            NDArray y = null;
            long[] micros = new long[TIMED_RUNS];
            for (int i = -1; i < TIMED_RUNS; i++) {
                long start = System.nanoTime();
                try (IValue xv = IValue.from((PtNDArray) x); IValue wv = IValue.from((PtNDArray) w); IValue bv = IValue.from((PtNDArray) b);
                     IValue c = IValue.listFrom(cfg); IValue r = IValueUtils.runMethod(module, "serve", xv, wv, bv, c)) {
                    y = r.toTensor(pm);
                }
                if (i >= 0) {
                    micros[i] = (System.nanoTime() - start) / 1000;
                }
            }
            NDArray picked = y.get(new NDIndex("{}", m.create(ends)));
            NDArray reference = reference(module, x.get(new NDIndex("{}", m.create(ends))), w, b, m.create(new float[0]), cfg, pm)[0];
            double error = relativeError(picked, reference);
            return verdict(error, tolerance, median(micros));
        }
        NDArray gy = m.randomNormal(new Shape(batch, s.outChannels(), s.outputSize(), s.outputSize()));
        NDArray cfgTensor = m.create(cfg);
        NDList outputs = null;
        long[] micros = new long[TIMED_RUNS];
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            for (int i = -1; i < TIMED_RUNS; i++) {
                long start = System.nanoTime();
                outputs = IValueUtils.forward(module, new NDList(x, w, gy, cfgTensor), true);
                if (i >= 0) {
                    micros[i] = (System.nanoTime() - start) / 1000;
                }
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        NDArray[] reference = reference(module, x, w, m.zeros(new Shape(s.outChannels())), gy, cfg, pm);
        double error = 0;
        for (int i = 0; i < 3; i++) {
            error = Math.max(error, relativeError(outputs.get(i), reference[i]));
        }
        return verdict(error, tolerance, median(micros));
    }

    private static NDArray[] reference(PtSymbolBlock module, NDArray x, NDArray w, NDArray b, NDArray gy, long[] cfg, PtNDManager m) {
        try (IValue xv = IValue.from((PtNDArray) x); IValue wv = IValue.from((PtNDArray) w); IValue bv = IValue.from((PtNDArray) b);
             IValue gv = IValue.from((PtNDArray) gy); IValue c = IValue.listFrom(cfg);
             IValue r = IValueUtils.runMethod(module, "reference", xv, wv, bv, gv, c)) {
            return r.toTensorArray(m);
        }
    }

    /** The largest absolute difference, relative to the reference's largest magnitude. */
    static double relativeError(NDArray actual, NDArray reference) {
        float scale = reference.abs().max().getFloat();
        float difference = actual.sub(reference).abs().max().getFloat();
        if (!Float.isFinite(difference)) {
            return Double.POSITIVE_INFINITY;
        }
        return difference / Math.max(scale, 1e-30f);
    }

    private static String verdict(double error, double tolerance, long micros) {
        return (error <= tolerance ? "ok " : "wrong ") + String.format(java.util.Locale.ROOT, "%.3g", error) + " " + micros;
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
