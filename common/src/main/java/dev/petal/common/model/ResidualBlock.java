package dev.petal.common.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;

/**
 * One residual unit: {@code relu(mainPath(x) + shortcut(x))}. The shortcut is the identity when
 * the shape is unchanged, else a strided 1x1 convolution plus BatchNorm with the block's
 * <em>output</em> channel count (planes x expansion; the source tutorial got this wrong for
 * Bottleneck).
 */
public final class ResidualBlock extends AbstractBlock {
    private static final byte VERSION = 1;

    private final Block mainPath;
    private final Block shortcut;
    private final boolean projection;

    public ResidualBlock(BlockType type, int inChannels, int planes, int stride, boolean zeroInitLastNorm) {
        super(VERSION);
        int outChannels = planes * type.expansion();
        this.projection = stride != 1 || inChannels != outChannels;
        this.mainPath = addChildBlock("main", type.mainPath(planes, stride, zeroInitLastNorm));
        this.shortcut = addChildBlock("shortcut", projection
                ? new SequentialBlock()
                        .add(BlockType.conv(outChannels, 1, stride))
                        .add(BlockType.norm(false))
                : Blocks.identityBlock());
    }

    /** Whether the shortcut is a 1x1 convolution + BatchNorm rather than the identity. */
    public boolean hasProjection() {
        return projection;
    }

    /** The main path's layers in order: conv, BatchNorm, ReLU, ..., ending with a BatchNorm. */
    List<Block> mainLayers() {
        return ResNet.layers(mainPath);
    }

    /** The shortcut's conv and BatchNorm; empty for the identity. */
    List<Block> shortcutLayers() {
        return projection ? ResNet.layers(shortcut) : List.of();
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray main = ChainedForward.run(store, mainPath, inputs, training).singletonOrThrow();
        NDList shortcutOut = ChainedForward.run(store, shortcut, inputs, training);
        // In place, as torchvision's "out += identity": the main path ends in a BatchNorm, whose backward
        // does not need its output.
        main.addi(shortcutOut.singletonOrThrow());
        ChainedForward.closeConsumed(shortcutOut, inputs);
        NDArray out = main.getNDArrayInternal().relu();
        main.close();
        return new NDList(out);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return mainPath.getOutputShapes(inputShapes);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        mainPath.initialize(manager, dataType, inputShapes);
        shortcut.initialize(manager, dataType, inputShapes);
    }
}
