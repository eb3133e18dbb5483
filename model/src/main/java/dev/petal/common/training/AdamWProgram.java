package dev.petal.common.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.petal.common.engine.GradModeOff;
import dev.petal.common.engine.TorchScriptArchive;
import dev.petal.common.model.ServingProgram;
import java.util.List;

/**
 * {@link AdamW}'s arithmetic as one TorchScript program, so a step over all parameters is one native
 * call instead of about a dozen JNI calls per parameter. The update is libtorch's fused AdamW kernel ({@code torch._fused_adamw_}, what
 * {@code torch.optim.AdamW(fused=True)} calls; on CPUs since PyTorch 2.4, so not in the 1.13 reference):
 * one pass that reads each weight, gradient and moment once, where the single-tensor path makes six
 * passes and a temporary (what it gained: docs/performance.md, the levers).
 *
 * <p>Constants {@code k} per step: learning rate, beta1, beta2, weight decay, epsilon and the step
 * number (the kernel applies the bias corrections).
 *
 * <p>The kernel walks each tensor's memory in order, so a weight, its gradient and its moments must
 * share one layout. {@link #layOutLike} gives a new moment its parameter's layout (DJL makes moments,
 * zeros or restored values, in the default layout, and convolution weights are channels-last, see
 * {@code ScriptedTraining}); a gradient that autograd returns in another layout is copied into the
 * weight's first ({@code AdamWTest} has such a case). The kernel is handed flat views of that memory:
 * libtorch 2.7's CPU kernel makes a default-layout copy of any other gradient and then does not use it,
 * a pass over every channels-last gradient for nothing.
 */
final class AdamWProgram implements AutoCloseable {
    private static final String METHODS = """
                def update(self, ps: List[Tensor], gs: List[Tensor], ms: List[Tensor], vs: List[Tensor], k: List[float]) -> int:
                    # ps, ms and vs are the caller's lists: TorchScript drops an in-place op on lists made here
                    for i in range(len(ps)):
                        layout = self.dense_layout(ps[i])
                        if layout < 0:
                            ops.prim.RaiseException("AdamW needs each parameter dense in the default or channels-last layout", "builtins.RuntimeError")
                        g = gs[i]
                        if self.dense_layout(g) != layout:
                            g = torch.empty_like(ps[i]).copy_(g)
                        ps[i] = self.flat(ps[i])
                        gs[i] = self.flat(g)
                        ms[i] = self.flat(ms[i])
                        vs[i] = self.flat(vs[i])
                    if len(ps) > 0:
                        step = torch.full([], k[5], dtype=6, device=ps[0].device)  # float32, where the kernel reads it
                        torch._fused_adamw_(ps, gs, ms, vs, [], [step for _ in ps], lr=k[0], beta1=k[1], beta2=k[2],
                                            weight_decay=k[3], eps=k[4], amsgrad=False, maximize=False)
                    return len(ps)
                def flat(self, t: Tensor) -> Tensor:
                    return torch.as_strided(t, [t.numel()], [1])
                def dense_layout(self, t: Tensor) -> int:
                    # 0: contiguous (1x1 weights are both, and count as this); 1: channels-last; -1: neither
                    if t.is_contiguous():
                        return 0
                    if t.dim() == 4 and t.is_contiguous(memory_format=%d):
                        return 1
                    return -1
                def lay_out_like(self, p: Tensor, moment: Tensor) -> int:
                    moment.set_(torch.empty_like(p).copy_(moment))
                    return 1
                def minimize(self, loss: Tensor, ps: List[Tensor], ms: List[Tensor], vs: List[Tensor], k: List[float]) -> int:
                    seed: List[Optional[Tensor]] = [torch.ones_like(loss)]
                    grads: List[Tensor] = []
                    for g in torch.autograd.grad([loss], ps, seed):
                        if g is not None:  # always, without allow_unused; the type needs the check
                            grads.append(g)
                    return self.update(ps, grads, ms, vs, k)
            """.formatted(ServingProgram.CHANNELS_LAST);

    private final PtSymbolBlock module;

    AdamWProgram(NDManager manager) {
        module = TorchScriptArchive.load(manager, "PetalAdamW", METHODS);
    }

    /**
     * Differentiates {@code loss} with respect to {@code ps} (it must reach every one; libtorch names one
     * it does not) and updates each with its moments {@code ms[i]}, {@code vs[i]}; returns how many were
     * updated. The gradients are fresh
     * tensors handed straight to the update and freed with the call, as PyTorch's
     * {@code zero_grad(set_to_none=True)} leaves them: nothing zeroes them and nothing accumulates
     * into them, and no parameter's {@code grad} is ever set.
     */
    int minimize(NDArray loss, List<NDArray> ps, List<NDArray> ms, List<NDArray> vs, double[] k) {
        JniUtils.setGraphExecutorOptimize(false); // per thread; nothing here to fuse, and no profiling runs
        try (GradModeOff off = new GradModeOff(); // the updates change the parameters in place
             IValue l = IValue.from((PtNDArray) loss); IValue p = tensors(ps); IValue m = tensors(ms); IValue v = tensors(vs);
             IValue constants = IValue.listFrom(k);
             IValue updated = IValueUtils.runMethod(module, "minimize", l, p, m, v, constants)) {
            return (int) updated.toLong();
        }
    }

    /** Re-lays {@code moment} in place (same values, same handle) in the memory layout of {@code p}. */
    void layOutLike(NDArray p, NDArray moment) {
        JniUtils.setGraphExecutorOptimize(false);
        try (IValue pv = IValue.from((PtNDArray) p); IValue mv = IValue.from((PtNDArray) moment);
             IValue ignored = IValueUtils.runMethod(module, "lay_out_like", pv, mv)) {
            // in place
        }
    }

    /** Updates one parameter with the gradient given. */
    void step(NDArray p, NDArray g, NDArray m, NDArray v, double[] k) {
        JniUtils.setGraphExecutorOptimize(false);
        try (IValue pv = tensors(List.of(p)); IValue gv = tensors(List.of(g)); IValue mv = tensors(List.of(m));
             IValue vv = tensors(List.of(v)); IValue constants = IValue.listFrom(k);
             IValue ignored = IValueUtils.runMethod(module, "update", pv, gv, mv, vv, constants)) {
            // in place
        }
    }

    private static IValue tensors(List<NDArray> arrays) {
        return IValue.listFrom(arrays.stream().map(PtNDArray.class::cast).toArray(PtNDArray[]::new));
    }

    @Override
    public void close() {
        module.close();
    }
}
