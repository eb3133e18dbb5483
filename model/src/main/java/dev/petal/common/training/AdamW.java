package dev.petal.common.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.training.tracker.Tracker;
import dev.petal.common.checkpoint.CheckpointIntegrityException;
import dev.petal.common.checkpoint.SafeTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PyTorch's AdamW ({@code torch.optim.AdamW}, betas 0.9/0.999, eps 1e-8, no amsgrad) with state we
 * can save and restore, keyed by parameter name: a resumed run continues step for step.
 *
 * <p>Per step t, for each parameter: {@code p -= lr*wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)}.
 */
public final class AdamW implements AutoCloseable {
    public static final float BETA1 = 0.9f;
    public static final float BETA2 = 0.999f;
    public static final float EPSILON = 1e-8f;

    private final Tracker learningRate;
    private final float weightDecay;
    private final Map<String, NDArray> means = new HashMap<>();
    private final Map<String, NDArray> variances = new HashMap<>();
    private final Map<String, Integer> steps = new HashMap<>();
    /** Steps restored from a checkpoint, applied to each parameter on its first update. */
    private int restoredStep;
    private AdamWProgram program;
    private Map<String, SafeTensors.Tensor> restoredMoments = Map.of();

    public AdamW(Tracker learningRate, float weightDecay) {
        this.learningRate = learningRate;
        this.weightDecay = weightDecay;
    }

    /** Optimizer steps taken so far (the schedule position). */
    public int step() {
        int max = restoredStep;
        for (int s : steps.values()) {
            max = Math.max(max, s);
        }
        return max;
    }

    /** The learning rate of the next step. */
    public float nextLearningRate() {
        return learningRate.getNewValue(step() + 1);
    }

    /** Updates one parameter, named {@code name}, with a gradient given. */
    public void update(String name, NDArray weight, NDArray grad) {
        int t = nextStep(name);
        program(weight).step(weight, grad, mean(name, weight), variance(name, weight), constants(t));
    }

    /**
     * One optimizer step on {@code loss}: its gradients with respect to every array of {@code weights}, and
     * the update of each, in one native call ({@link AdamWProgram#minimize}); {@code backward()},
     * {@code optimizer.step()} and {@code zero_grad(set_to_none=True)} in PyTorch terms. The gradients
     * are never stored on the parameters, so there is nothing to zero before the next step and no pass
     * that adds into old ones. All parameters share the step.
     *
     * @param loss a scalar recorded by autograd from the arrays, reaching every one (libtorch names the
     *     one it does not reach); its graph is freed
     * @param names each array's name, under which its state is kept
     */
    public void minimize(NDArray loss, List<String> names, List<NDArray> weights) {
        if (names.size() != weights.size()) {
            throw new IllegalArgumentException(names.size() + " names for " + weights.size() + " parameters");
        }
        List<NDArray> ms = new ArrayList<>();
        List<NDArray> vs = new ArrayList<>();
        int t = step() + 1;
        for (int i = 0; i < weights.size(); i++) {
            ms.add(mean(names.get(i), weights.get(i)));
            vs.add(variance(names.get(i), weights.get(i)));
            steps.put(names.get(i), t);
        }
        if (!weights.isEmpty()) {
            program(weights.get(0)).minimize(loss, weights, ms, vs, constants(t));
        }
    }

    private int nextStep(String name) {
        int t = steps.merge(name, 1, Integer::sum);
        if (t == 1 && restoredStep > 0) {
            t = restoredStep + 1;
            steps.put(name, t);
        }
        return t;
    }

    private NDArray mean(String name, NDArray weight) {
        return means.computeIfAbsent(name, n -> initialMoment(n, "exp_avg", weight));
    }

    private NDArray variance(String name, NDArray weight) {
        return variances.computeIfAbsent(name, n -> initialMoment(n, "exp_avg_sq", weight));
    }

    /** Step t's constants for {@link AdamWProgram}: lr (the schedule's, at t), betas, weight decay, eps, t. */
    private double[] constants(int t) {
        return new double[] {learningRate.getNewValue(t), BETA1, BETA2, weightDecay, EPSILON, t};
    }

    /** Compiled once, on the parameters' manager (it lives as long as the model). */
    private AdamWProgram program(NDArray weight) {
        if (program == null) {
            program = new AdamWProgram(weight.getManager());
        }
        return program;
    }

    private NDArray initialMoment(String name, String kind, NDArray weight) {
        SafeTensors.Tensor saved = restoredMoments.get(name + "." + kind);
        NDArray moment;
        if (saved != null) {
            if (!Arrays.equals(saved.shape(), weight.getShape().getShape())) {
                throw new CheckpointIntegrityException("optimizer state " + name + "." + kind + " has shape "
                        + Arrays.toString(saved.shape()) + ", the parameter " + weight.getShape());
            }
            moment = weight.getManager().create(saved.values(), weight.getShape());
        } else {
            moment = weight.zerosLike();
        }
        program(weight).layOutLike(weight, moment);
        NDScope.unregister(moment);
        return moment;
    }

    /** The moments and step, as safetensors ({@code <param>.exp_avg}, {@code <param>.exp_avg_sq}). */
    public SafeTensors state() {
        Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : means.entrySet()) {
            NDArray v = variances.get(e.getKey());
            tensors.put(e.getKey() + ".exp_avg", SafeTensors.Tensor.of(e.getValue().getShape().getShape(), e.getValue().toFloatArray()));
            tensors.put(e.getKey() + ".exp_avg_sq", SafeTensors.Tensor.of(v.getShape().getShape(), v.toFloatArray()));
        }
        // Moments not yet materialised since a restore are carried over unchanged.
        restoredMoments.forEach(tensors::putIfAbsent);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("optimizer", "adamw");
        metadata.put("step", Integer.toString(step()));
        metadata.put("beta1", Float.toString(BETA1));
        metadata.put("beta2", Float.toString(BETA2));
        metadata.put("eps", Float.toString(EPSILON));
        metadata.put("weight_decay", Float.toString(weightDecay));
        return new SafeTensors(tensors, metadata);
    }

    /** Restores {@link #state()} before the first step of a resumed run. */
    public void restore(SafeTensors state) {
        if (!steps.isEmpty()) {
            throw new IllegalStateException("restore the optimizer before its first step");
        }
        String step = state.metadata().get("step");
        if (!"adamw".equals(state.metadata().get("optimizer")) || step == null) {
            throw new CheckpointIntegrityException("optimizer state is not Petal AdamW state: " + state.metadata());
        }
        this.restoredStep = Integer.parseInt(step);
        this.restoredMoments = new HashMap<>(state.tensors());
    }

    @Override
    public void close() {
        means.values().forEach(NDArray::close);
        variances.values().forEach(NDArray::close);
        if (program != null) {
            program.close();
        }
    }
}
