package dev.petal.common.training;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.ParameterList;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.petal.common.checkpoint.CheckpointIntegrityException;
import dev.petal.common.checkpoint.SafeTensors;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PyTorch's AdamW ({@code torch.optim.AdamW}, betas 0.9/0.999, eps 1e-8, no amsgrad) with state we
 * can save and restore. DJL's own AdamW keeps its moments private, so a resumed run could not
 * continue step for step; this one exports them as safetensors.
 *
 * <p>Per step t, for each parameter: {@code p -= lr*wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)}.
 */
public final class AdamW extends Optimizer {
    public static final float BETA1 = 0.9f;
    public static final float BETA2 = 0.999f;
    public static final float EPSILON = 1e-8f;

    private final Tracker learningRate;
    private final float weightDecay;
    private final Map<String, String> idToName = new HashMap<>();
    private final Map<String, NDArray> means = new HashMap<>();
    private final Map<String, NDArray> variances = new HashMap<>();
    private final Map<String, Integer> steps = new HashMap<>();
    /** Steps restored from a checkpoint, applied to each parameter on its first update. */
    private int restoredStep;
    private AdamWProgram program;
    private Map<String, SafeTensors.Tensor> restoredMoments = Map.of();

    public AdamW(Tracker learningRate, float weightDecay) {
        super(new Builder());
        this.learningRate = learningRate;
        this.weightDecay = weightDecay;
    }

    /** Names the parameters (DJL passes random ids) so that state can be saved under stable names. */
    public void nameParameters(PairList<String, Parameter> parameters) {
        for (Pair<String, Parameter> p : parameters) {
            idToName.put(p.getValue().getId(), p.getKey());
        }
    }

    /** Optimizer steps taken so far (the schedule position). */
    public int step() {
        int max = restoredStep;
        for (int s : steps.values()) {
            max = Math.max(max, s);
        }
        return max;
    }

    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        int t = nextStep(parameterId);
        program(weight).step(weight, grad, mean(parameterId, weight), variance(parameterId, weight), constants(t));
    }

    /**
     * One optimizer step on {@code loss}: its gradients with respect to every trainable parameter, and
     * the update of each, in one native call ({@link AdamWProgram#minimize}); {@code backward()},
     * {@code optimizer.step()} and {@code zero_grad(set_to_none=True)} in PyTorch terms. The gradients
     * are never stored on the parameters, so there is nothing to zero before the next step and no pass
     * that adds into old ones. Unlike DJL's {@code Trainer.step()} it does not copy each gradient either
     * (its parameter server duplicates them for multi-device reduction, which one device never needs).
     * All trainable parameters share the step.
     *
     * @param loss a scalar recorded by autograd from the parameters' arrays, reaching every trainable
     *     one (libtorch names the one it does not reach); its graph is freed
     */
    public void minimize(NDArray loss, ParameterList parameters) {
        List<NDArray> weights = new ArrayList<>();
        List<NDArray> ms = new ArrayList<>();
        List<NDArray> vs = new ArrayList<>();
        int t = step() + 1;
        for (Pair<String, Parameter> p : parameters) {
            Parameter parameter = p.getValue();
            if (parameter.requiresGradient()) {
                NDArray weight = parameter.getArray();
                weights.add(weight);
                ms.add(mean(parameter.getId(), weight));
                vs.add(variance(parameter.getId(), weight));
                steps.put(parameter.getId(), t);
            }
        }
        if (!weights.isEmpty()) {
            program(weights.get(0)).minimize(loss, weights, ms, vs, constants(t));
        }
    }

    private int nextStep(String parameterId) {
        int t = steps.merge(parameterId, 1, Integer::sum);
        if (t == 1 && restoredStep > 0) {
            t = restoredStep + 1;
            steps.put(parameterId, t);
        }
        return t;
    }

    private NDArray mean(String parameterId, NDArray weight) {
        return means.computeIfAbsent(parameterId, id -> initialMoment(id, "exp_avg", weight));
    }

    private NDArray variance(String parameterId, NDArray weight) {
        return variances.computeIfAbsent(parameterId, id -> initialMoment(id, "exp_avg_sq", weight));
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

    private NDArray initialMoment(String parameterId, String kind, NDArray weight) {
        String name = idToName.get(parameterId);
        SafeTensors.Tensor saved = name == null ? null : restoredMoments.get(name + "." + kind);
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
            String name = nameOf(e.getKey());
            NDArray v = variances.get(e.getKey());
            tensors.put(name + ".exp_avg", SafeTensors.Tensor.of(e.getValue().getShape().getShape(), e.getValue().toFloatArray()));
            tensors.put(name + ".exp_avg_sq", SafeTensors.Tensor.of(v.getShape().getShape(), v.toFloatArray()));
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

    private String nameOf(String parameterId) {
        String name = idToName.get(parameterId);
        if (name == null) {
            throw new IllegalStateException("parameter " + parameterId + " was never named; call nameParameters");
        }
        return name;
    }

    private static final class Builder extends OptimizerBuilder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }
    }
}
