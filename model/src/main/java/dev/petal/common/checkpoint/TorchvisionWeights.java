package dev.petal.common.checkpoint;

import ai.djl.ndarray.NDArray;
import dev.petal.common.engine.GradModeOff;
import dev.petal.common.model.LayerPlan;
import dev.petal.common.model.ModelParameters;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Weights in torchvision's layout and names, as users bring them (ImageNet weights to fine-tune from) and
 * as a Petal model leaves for PyTorch. Petal's parameters carry torchvision's names and shapes
 * ({@link ModelParameters}), so values copy across unchanged.
 */
public final class TorchvisionWeights {
    private TorchvisionWeights() {}

    /** What a load did. */
    public record LoadResult(int loaded, boolean headReplaced, List<String> unusedKeys) {}

    /** The parameters (running statistics included) under torchvision's names, as F32. */
    public static SafeTensors export(ModelParameters params, Map<String, String> metadata) {
        Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>();
        params.arrays().forEach((name, array) -> tensors.put(name, SafeTensors.Tensor.of(array.getShape().getShape(), array.toFloatArray())));
        return new SafeTensors(tensors, metadata);
    }

    /**
     * Copies torchvision-named weights into {@code params}, in place. Every parameter must be present with
     * the same shape, except the head: with {@code allowNewHead}, a head of another size keeps its fresh
     * initialisation (fine-tuning to other classes). A refused file leaves the parameters untouched.
     *
     * @throws CheckpointIntegrityException when a tensor is missing or has the wrong shape
     */
    public static LoadResult load(ModelParameters params, SafeTensors weights, boolean allowNewHead) {
        // By name: NDArray's equals compares contents, so arrays of equal values would collapse as keys.
        Map<String, float[]> updates = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        boolean headReplaced = false;
        for (LayerPlan.Parameter p : params.plan().parameters()) {
            SafeTensors.Tensor tensor = weights.get(p.name());
            boolean fits = tensor != null && tensor.values() != null && Arrays.equals(tensor.shape(), p.shape());
            boolean head = p.kind() == LayerPlan.Kind.LINEAR_WEIGHT || p.kind() == LayerPlan.Kind.LINEAR_BIAS;
            if (!fits && allowNewHead && head) {
                headReplaced = true;
                used.add(p.name());
                continue;
            }
            if (tensor == null) {
                throw new CheckpointIntegrityException("weights lack " + p.name() + " (shape " + Arrays.toString(p.shape()) + ")");
            }
            if (!fits) {
                throw new CheckpointIntegrityException("weights have " + p.name() + " with shape " + Arrays.toString(tensor.shape())
                        + " (" + tensor.dtype() + "), the model needs " + Arrays.toString(p.shape()) + " (float)");
            }
            updates.put(p.name(), tensor.values());
            used.add(p.name());
        }
        try (GradModeOff off = new GradModeOff()) {
            updates.forEach((name, values) -> params.get(name).set(values));
        }
        List<String> unused = new ArrayList<>();
        for (String key : weights.tensors().keySet()) {
            if (!used.contains(key) && !key.endsWith(".num_batches_tracked")) {
                unused.add(key);
            }
        }
        return new LoadResult(updates.size(), headReplaced, unused);
    }
}
