package dev.petal.common.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;

/**
 * The weights and structure of a trained {@link ResNet} for inference. At inference a BatchNorm is a
 * fixed per-channel scale and shift, so each one is folded into the convolution before it: one op
 * instead of two and one pass less over the activations, about 20 per image for ResNet-18 (PyTorch's
 * eager mode does not do this). {@link ScriptedResNet} runs it; its outputs equal the ResNet's in
 * evaluation mode up to float rounding.
 */
public final class FoldedResNet implements AutoCloseable {
    /** A convolution with its BatchNorm folded in, and whether a ReLU follows. */
    record FoldedConv(NDArray weight, NDArray bias, Shape stride, Shape padding, boolean relu) {}

    record Residual(List<FoldedConv> main, FoldedConv shortcut) {}

    private final NDManager manager;
    private final FoldedConv stem;
    private final boolean stemPool;
    private final List<Residual> blocks;
    private final NDArray fcWeight;
    private final NDArray fcBias;

    private FoldedResNet(NDManager manager, FoldedConv stem, boolean stemPool, List<Residual> blocks,
                         NDArray fcWeight, NDArray fcBias) {
        this.manager = manager;
        this.stem = stem;
        this.stemPool = stemPool;
        this.blocks = blocks;
        this.fcWeight = fcWeight;
        this.fcBias = fcBias;
    }

    /** Folds an initialised, trained {@code net}; the folded weights live in a sub-manager of {@code parent}. */
    public static FoldedResNet of(ResNet net, NDManager parent) {
        JniUtils.setGradMode(false); // folding is arithmetic on parameters; no autograd history
        NDManager manager = parent.newSubManager();
        boolean stemPool = !net.config().smallImageStem();
        // With a max-pool, the stem's ReLU comes after it (see ResNet's stem), so the conv has none.
        FoldedConv stem = fold(net.stemLayers(), 0, !stemPool, manager);
        List<Residual> blocks = new ArrayList<>();
        for (ResidualBlock block : net.residualBlocks()) {
            List<Block> main = block.mainLayers();
            List<FoldedConv> convs = new ArrayList<>();
            for (int i = 0; i < main.size(); i++) {
                if (main.get(i) instanceof Convolution) {
                    // A ReLU follows every conv+norm of the main path except the last (the block applies it after the sum).
                    boolean relu = i + 2 < main.size() && !(main.get(i + 2) instanceof Convolution);
                    convs.add(fold(main, i, relu, manager));
                }
            }
            List<Block> shortcut = block.shortcutLayers();
            blocks.add(new Residual(convs, shortcut.isEmpty() ? null : fold(shortcut, 0, false, manager)));
        }
        Block fc = net.head();
        NDArray weight = copy(fc.getParameters().get("weight").getArray(), manager);
        NDArray bias = copy(fc.getParameters().get("bias").getArray(), manager);
        return new FoldedResNet(manager, stem, stemPool, blocks, weight, bias);
    }

    /** parts[at] is a convolution without bias, parts[at + 1] its BatchNorm. */
    private static FoldedConv fold(List<Block> parts, int at, boolean relu, NDManager manager) {
        Convolution conv = (Convolution) parts.get(at);
        if (!(parts.get(at + 1) instanceof BatchNorm norm) || conv.isIncludeBias()) {
            throw new IllegalStateException("expected a convolution without bias followed by a BatchNorm");
        }
        NDArray weight = conv.getParameters().get("weight").getArray();
        NDArray gamma = norm.getParameters().get("gamma").getArray();
        NDArray beta = norm.getParameters().get("beta").getArray();
        NDArray mean = norm.getParameters().get("runningMean").getArray();
        NDArray variance = norm.getParameters().get("runningVar").getArray();
        try (NDManager scratch = manager.newSubManager()) {
            NDArray scale = gamma.div(variance.add(BlockType.NORM_EPSILON).sqrt());
            scale.attach(scratch);
            NDArray foldedWeight = weight.mul(scale.reshape(-1, 1, 1, 1));
            NDArray foldedBias = beta.sub(mean.mul(scale));
            foldedWeight.attach(manager);
            foldedBias.attach(manager);
            return new FoldedConv(foldedWeight, foldedBias, conv.getStride(), conv.getPadding(), relu);
        }
    }

    private static NDArray copy(NDArray array, NDManager manager) {
        NDArray copy = array.duplicate();
        copy.attach(manager);
        return copy;
    }

    FoldedConv stem() {
        return stem;
    }

    boolean stemPool() {
        return stemPool;
    }

    List<Residual> blocks() {
        return blocks;
    }

    NDArray fcWeight() {
        return fcWeight;
    }

    NDArray fcBias() {
        return fcBias;
    }

    @Override
    public void close() {
        manager.close();
    }
}
