package dev.petal.common.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.petal.common.engine.GradModeOff;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network's weights and BatchNorm running statistics, one array per {@link LayerPlan.Parameter},
 * under torchvision's {@code state_dict} names and in its order, so that weights cross to and from
 * PyTorch unchanged. The arrays live in a sub-manager of the caller's, closed with this object.
 */
public final class ModelParameters implements AutoCloseable {
    private final LayerPlan plan;
    private final NDManager manager;
    private final Map<String, NDArray> arrays;
    /** False for a view from {@link #laidOutFor}: the arrays belong to the parameters it was made from. */
    private final boolean ownsArrays;

    private ModelParameters(LayerPlan plan, NDManager manager, Map<String, NDArray> arrays) {
        this(plan, manager, arrays, true);
    }

    private ModelParameters(LayerPlan plan, NDManager manager, Map<String, NDArray> arrays, boolean ownsArrays) {
        this.plan = plan;
        this.manager = manager;
        this.arrays = Collections.unmodifiableMap(arrays);
        this.ownsArrays = ownsArrays;
    }

    /**
     * Fresh parameters, initialised as torchvision initialises a ResNet: He-normal (fan-out) convolution
     * weights, BatchNorms at the identity, the head uniform in +-1/sqrt(fan-in). With
     * {@code zeroInitResidual}, each block's last BatchNorm starts at zero, so the block starts as the
     * identity (Goyal et al., 2017). Draws from the engine's random generator in plan order: seed it first.
     */
    public static ModelParameters initialised(LayerPlan plan, NDManager parent, boolean zeroInitResidual) {
        NDManager manager = parent.newSubManager();
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        List<String> zeroed = new ArrayList<>();
        if (zeroInitResidual) {
            plan.blocks().forEach(b -> zeroed.add(b.main().get(b.main().size() - 1).norm() + ".weight"));
        }
        try (GradModeOff off = new GradModeOff()) {
            for (LayerPlan.Parameter p : plan.parameters()) {
                Shape shape = new Shape(p.shape());
                NDArray array = switch (p.kind()) {
                    case CONV_WEIGHT -> manager.randomNormal(0f, (float) Math.sqrt(2.0 / (p.shape()[0] * p.shape()[2] * p.shape()[3])),
                            shape, DataType.FLOAT32);
                    case NORM_WEIGHT -> zeroed.contains(p.name()) ? manager.zeros(shape) : manager.ones(shape);
                    case NORM_BIAS, RUNNING_MEAN -> manager.zeros(shape);
                    case RUNNING_VAR -> manager.ones(shape);
                    case LINEAR_WEIGHT, LINEAR_BIAS -> {
                        float bound = (float) (1 / Math.sqrt(plan.head().inFeatures()));
                        yield manager.randomUniform(-bound, bound, shape, DataType.FLOAT32);
                    }
                };
                array.setName(p.name());
                arrays.put(p.name(), array);
            }
        }
        return new ModelParameters(plan, manager, arrays);
    }

    /**
     * Takes ownership of {@code loaded} (attached to a new sub-manager of {@code parent}), which must hold
     * exactly the plan's parameters with their shapes; otherwise an {@link IllegalArgumentException} that
     * names the first difference, and the arrays are closed.
     */
    public static ModelParameters of(LayerPlan plan, NDManager parent, Map<String, NDArray> loaded) {
        NDManager manager = parent.newSubManager();
        loaded.values().forEach(a -> a.attach(manager));
        try {
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            for (LayerPlan.Parameter p : plan.parameters()) {
                NDArray array = loaded.get(p.name());
                if (array == null) {
                    throw new IllegalArgumentException("the weights lack " + p.name() + " " + Arrays.toString(p.shape()));
                }
                long[] shape = array.getShape().getShape();
                if (!Arrays.equals(shape, p.shape())) {
                    throw new IllegalArgumentException("the weights have " + p.name() + " of shape " + Arrays.toString(shape)
                            + " but the model needs " + Arrays.toString(p.shape()) + " (another architecture or label count?)");
                }
                array.setName(p.name());
                arrays.put(p.name(), array);
            }
            if (arrays.size() != loaded.size()) {
                List<String> extra = loaded.keySet().stream().filter(k -> !arrays.containsKey(k)).limit(3).toList();
                throw new IllegalArgumentException("the weights hold tensors this model does not have: " + extra);
            }
            return new ModelParameters(plan, manager, arrays);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Copies the arrays of {@code other} into these, in place. Every name and shape must match, except
     * the head's with {@code allowNewHead}: a head of another shape (other labels) keeps this one's values.
     * Nothing is copied when something does not match.
     *
     * @return whether the head was kept (not copied)
     * @throws IllegalArgumentException naming the first array that does not fit
     */
    public boolean copyFrom(ModelParameters other, boolean allowNewHead) {
        boolean headKept = false;
        List<String> copied = new ArrayList<>();
        for (LayerPlan.Parameter p : plan.parameters()) {
            NDArray source = other.arrays.get(p.name());
            boolean head = p.kind() == LayerPlan.Kind.LINEAR_WEIGHT || p.kind() == LayerPlan.Kind.LINEAR_BIAS;
            boolean fits = source != null && Arrays.equals(source.getShape().getShape(), p.shape());
            if (!fits && head && allowNewHead) {
                headKept = true;
                continue;
            }
            if (!fits) {
                throw new IllegalArgumentException("the weights " + (source == null ? "lack " + p.name()
                        : "have " + p.name() + " of shape " + source.getShape() + ", the model needs " + new Shape(p.shape())));
            }
            copied.add(p.name());
        }
        try (GradModeOff off = new GradModeOff()) {
            copied.forEach(name -> other.arrays.get(name).copyTo(arrays.get(name)));
        }
        return headKept;
    }

    public LayerPlan plan() {
        return plan;
    }

    /**
     * The same arrays (not copies) under {@code other}, this network's plan for another input size: a
     * program built from the view is laid out and routed for that size. Closing the view leaves the arrays open.
     */
    public ModelParameters laidOutFor(LayerPlan other) {
        if (other.equals(plan)) {
            return this;
        }
        List<LayerPlan.Parameter> mine = plan.parameters();
        List<LayerPlan.Parameter> theirs = other.parameters();
        boolean same = mine.size() == theirs.size();
        for (int i = 0; same && i < mine.size(); i++) {
            same = mine.get(i).name().equals(theirs.get(i).name()) && Arrays.equals(mine.get(i).shape(), theirs.get(i).shape());
        }
        if (!same) {
            throw new IllegalArgumentException("the plan is of another network: its parameters differ from these weights'");
        }
        return new ModelParameters(other, manager, arrays, false);
    }

    /** The array of a parameter by its torchvision name; an exception for a name the plan lacks. */
    public NDArray get(String name) {
        NDArray array = arrays.get(name);
        if (array == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return array;
    }

    /** A convolution with its BatchNorm folded in, as inference computes it: {@code conv(x, weight) + bias}. */
    public record FoldedConvolution(NDArray weight, NDArray bias) {}

    /**
     * {@code unit}'s convolution with its BatchNorm folded in, for inference: each output channel's weights
     * scaled by {@code gamma / sqrt(var + eps)}, and the bias {@code beta - mean * scale}. The results and
     * every intermediate land in {@code into}; these parameters are left as they are.
     */
    public FoldedConvolution folded(LayerPlan.ConvUnit unit, NDManager into) {
        NDArray weight = get(unit.conv().name() + ".weight");
        String n = unit.norm();
        NDArray shifted = get(n + ".running_var").add((float) TrainingProgram.NORM_EPSILON);
        NDArray deviation = shifted.sqrt();
        NDArray scale = get(n + ".weight").div(deviation);
        NDArray column = scale.reshape(-1, 1, 1, 1);
        NDArray foldedWeight = weight.mul(column);
        NDArray shift = get(n + ".running_mean").mul(scale);
        NDArray foldedBias = get(n + ".bias").sub(shift);
        for (NDArray a : List.of(shifted, deviation, scale, column, foldedWeight, shift, foldedBias)) {
            a.attach(into);
        }
        return new FoldedConvolution(foldedWeight, foldedBias);
    }

    /** Every array by name, in plan order. */
    public Map<String, NDArray> arrays() {
        return arrays;
    }

    /** The arrays an optimizer updates (everything but the running statistics), in plan order. */
    public List<NDArray> trainable() {
        return plan.parameters().stream().filter(LayerPlan.Parameter::trainable).map(p -> arrays.get(p.name())).toList();
    }

    /** Each trainable array's name, in the order of {@link #trainable()}. */
    public List<String> trainableNames() {
        return plan.parameters().stream().filter(LayerPlan.Parameter::trainable).map(LayerPlan.Parameter::name).toList();
    }

    /** Makes autograd track the trainable arrays. */
    public void requireGradients() {
        trainable().forEach(a -> a.setRequiresGradient(true));
    }

    public NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        if (ownsArrays) {
            manager.close();
        }
    }
}
