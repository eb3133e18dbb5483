package dev.petal.common.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Weights in torchvision's layout and names, as safetensors: how users bring ImageNet weights they
 * already have, and how a Petal model leaves for PyTorch. Shapes match torchvision's one to one
 * (conv OIHW, linear [out, in]), so values copy across unchanged.
 */
public final class TorchvisionWeights {
    private TorchvisionWeights() {}

    /** What a load did. */
    public record LoadResult(int loaded, boolean headReplaced, List<String> unusedKeys) {}

    /** An initialised ResNet's parameters (running statistics included) under torchvision's names. */
    public static SafeTensors export(Block net, Map<String, String> metadata) {
        Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : net.getParameters()) {
            NDArray array = p.getValue().getArray();
            tensors.put(TorchvisionNames.toTorchvision(p.getKey()),
                    SafeTensors.Tensor.of(array.getShape().getShape(), array.toFloatArray()));
        }
        return new SafeTensors(tensors, metadata);
    }

    /**
     * Copies torchvision-named weights into an initialised ResNet, in place. Every parameter must be
     * present with the same shape, except the head: with {@code allowNewHead}, a head of another size
     * keeps its fresh initialisation (fine-tuning to other classes).
     *
     * @throws CheckpointIntegrityException when a tensor is missing or has the wrong shape
     */
    public static LoadResult load(Block net, SafeTensors weights, boolean allowNewHead) {
        Map<Parameter, float[]> updates = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        boolean headReplaced = false;
        for (Pair<String, Parameter> p : net.getParameters()) {
            String name = TorchvisionNames.toTorchvision(p.getKey());
            Parameter parameter = p.getValue();
            long[] shape = parameter.getArray().getShape().getShape();
            SafeTensors.Tensor tensor = weights.get(name);
            boolean fits = tensor != null && tensor.values() != null && Arrays.equals(tensor.shape(), shape);
            if (!fits && allowNewHead && TorchvisionNames.isHead(name)) {
                headReplaced = true;
                used.add(name);
                continue;
            }
            if (tensor == null) {
                throw new CheckpointIntegrityException("weights lack " + name + " (shape " + Arrays.toString(shape) + ")");
            }
            if (!fits) {
                throw new CheckpointIntegrityException("weights have " + name + " with shape "
                        + Arrays.toString(tensor.shape()) + " (" + tensor.dtype() + "), the model needs "
                        + Arrays.toString(shape) + " (float)");
            }
            updates.put(parameter, tensor.values());
            used.add(name);
        }
        // Check everything first, then copy: a refused file leaves the model untouched.
        updates.forEach((parameter, values) -> parameter.getArray().set(values));
        List<String> unused = new ArrayList<>();
        for (String key : weights.tensors().keySet()) {
            if (!used.contains(key) && !TorchvisionNames.isIgnored(key)) {
                unused.add(key);
            }
        }
        return new LoadResult(updates.size(), headReplaced, unused);
    }
}
