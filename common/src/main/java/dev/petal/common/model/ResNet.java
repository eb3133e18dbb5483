package dev.petal.common.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A ResNet in torchvision's layout: stem (conv 7x7/2, BN, max-pool 3x3/2, ReLU: the same as torchvision's ReLU then pool), four stages of
 * 64/128/256/512 planes, global average pool, fully connected head. Child names follow
 * torchvision's ({@code conv1}, {@code layer1}, {@code fc}) so weights map across by name.
 */
public final class ResNet extends AbstractBlock {
    private static final byte VERSION = 1;
    private static final int[] STAGE_PLANES = {64, 128, 256, 512};

    private final ResNetConfig config;
    private final SequentialBlock stem;
    private final Block[] stages = new Block[4];
    private final Block fc;

    public ResNet(ResNetConfig config) {
        super(VERSION);
        this.config = config;
        this.stem = addChildBlock("stem", buildStem(config.smallImageStem()));
        BlockType type = config.architecture().blockType();
        int[] blocks = config.architecture().blocksPerStage();
        int inChannels = 64;
        for (int s = 0; s < 4; s++) {
            SequentialBlock stage = new SequentialBlock();
            int planes = STAGE_PLANES[s];
            for (int b = 0; b < blocks[s]; b++) {
                int stride = (s > 0 && b == 0) ? 2 : 1;
                stage.add(new ResidualBlock(type, inChannels, planes, stride, config.zeroInitResidual()));
                inChannels = planes * type.expansion();
            }
            stages[s] = addChildBlock("layer" + (s + 1), stage);
        }
        this.fc = addChildBlock("fc", Linear.builder().setUnits(config.numClasses()).build());
        initializeLikeTorchvision(inChannels);
    }

    /**
     * torchvision's initialisation: He normal (fan-out) for convolutions, uniform +-1/sqrt(fan-in)
     * for the head. A He-initialised head would start with huge logits and a loss far above ln(classes).
     */
    private void initializeLikeTorchvision(int headInputs) {
        setInitializer(new XavierInitializer(
                XavierInitializer.RandomType.GAUSSIAN, XavierInitializer.FactorType.OUT, 2f), Parameter.Type.WEIGHT);
        Initializer head = new UniformInitializer((float) (1 / Math.sqrt(headInputs)));
        fc.setInitializer(head, Parameter.Type.WEIGHT);
        fc.setInitializer(head, Parameter.Type.BIAS);
    }

    public static ResNet of(Architecture architecture, int numClasses) {
        return new ResNet(ResNetConfig.of(architecture, numClasses));
    }

    private static SequentialBlock buildStem(boolean small) {
        SequentialBlock stem = new SequentialBlock();
        if (small) {
            stem.add(BlockType.conv(64, 3, 1));
        } else {
            stem.add(ai.djl.nn.convolutional.Conv2d.builder()
                    .setFilters(64)
                    .setKernelShape(new Shape(7, 7))
                    .optStride(new Shape(2, 2))
                    .optPadding(new Shape(3, 3))
                    .optBias(false)
                    .build());
        }
        stem.add(BlockType.norm(false));
        if (!small) {
            // Max-pool before the ReLU: the two commute (ReLU is monotone, the padding is -inf), values and
            // gradients alike, and this way the ReLU and its saved output cover a quarter of the elements.
            stem.add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
        }
        stem.add(Activation.reluBlock());
        return stem;
    }

    public ResNetConfig config() {
        return config;
    }

    /** The stem's layers in order: conv, BatchNorm, then max-pool and ReLU (the small stem: ReLU alone). */
    List<Block> stemLayers() {
        return layers(stem);
    }

    /** Every residual block, stage after stage. */
    List<ResidualBlock> residualBlocks() {
        List<ResidualBlock> blocks = new ArrayList<>();
        for (Block stage : stages) {
            for (Block block : layers(stage)) {
                blocks.add((ResidualBlock) block);
            }
        }
        return blocks;
    }

    /** The fully connected head. */
    Block head() {
        return fc;
    }

    /** A chain's children in the order they run. */
    static List<Block> layers(Block chain) {
        List<Block> out = new ArrayList<>();
        for (Pair<String, Block> child : chain.getChildren()) {
            out.add(child.getValue());
        }
        return out;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList x = ChainedForward.run(store, stem, inputs, training);
        for (Block stage : stages) {
            NDList next = ChainedForward.run(store, stage, x, training);
            ChainedForward.closeConsumed(x, inputs);
            x = next;
        }
        NDArray pooled = Pool.globalAvgPool2d(x.singletonOrThrow());
        ChainedForward.closeConsumed(x, inputs);
        NDList logits = fc.forward(store, new NDList(pooled), training);
        pooled.close();
        return logits;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Map<String, Shape> shapes = layerShapes(inputShapes[0]);
        return new Shape[] {shapes.get("logits")};
    }

    /**
     * Output shape after each part, for a batched NCHW input: conv1, stem (after max-pool when
     * present), layer1..layer4, avgpool (C x 1 x 1) and logits.
     */
    public Map<String, Shape> layerShapes(Shape input) {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        Shape[] current = {input};
        shapes.put("conv1", stem.getChildren().get(0).getValue().getOutputShapes(current)[0]);
        current = stem.getOutputShapes(current);
        shapes.put("stem", current[0]);
        for (int s = 0; s < 4; s++) {
            current = stages[s].getOutputShapes(current);
            shapes.put("layer" + (s + 1), current[0]);
        }
        Shape last = current[0];
        shapes.put("avgpool", new Shape(last.get(0), last.get(1), 1, 1));
        shapes.put("logits", fc.getOutputShapes(new Shape[] {new Shape(last.get(0), last.get(1))})[0]);
        return shapes;
    }

    /** Trainable parameters only (BatchNorm running statistics excluded), as torchvision counts. */
    public long trainableParameterCount() {
        long total = 0;
        for (Pair<String, Parameter> pair : getParameters()) {
            Parameter p = pair.getValue();
            if (p.requiresGradient()) {
                total += p.getShape().size();
            }
        }
        return total;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape[] current = inputShapes;
        stem.initialize(manager, dataType, current);
        current = stem.getOutputShapes(current);
        for (Block stage : stages) {
            stage.initialize(manager, dataType, current);
            current = stage.getOutputShapes(current);
        }
        fc.initialize(manager, dataType, new Shape(current[0].get(0), current[0].get(1)));
    }
}
