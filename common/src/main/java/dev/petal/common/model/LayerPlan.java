package dev.petal.common.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A ResNet as the list of what it computes, derived from its {@link Architecture} the way torchvision's
 * {@code _make_layer} builds it: a stem, residual blocks stage after stage, a pooled linear head.
 * Everything that handles a network walks this one plan: creating and initialising its parameters
 * ({@link ModelParameters}, under torchvision's {@code state_dict} names), the training program
 * ({@link TrainingProgram}), BatchNorm folding and the serving program ({@link ServingProgram}), and the
 * kernel self-check ({@link KernelCheck}).
 *
 * @param stem      the stem's convolution, BatchNorm and ReLU
 * @param stemPool  whether a 3x3 stride-2 max-pool follows the stem (the ImageNet stem)
 * @param blocks    every residual block, in order
 * @param head      the fully connected classifier after global average pooling
 * @param imageSize the input's height and width, which fix each convolution's input size
 */
public record LayerPlan(ConvUnit stem, boolean stemPool, List<Block> blocks, Head head, int imageSize) {
    private static final int[] STAGE_PLANES = {64, 128, 256, 512};
    private static final int STEM_CHANNELS = 64;

    /**
     * A square convolution without bias, named as torchvision names its module ({@code layer1.0.conv1}).
     *
     * @param inputSize the height and width of its input in this plan
     */
    public record Convolution(String name, int inChannels, int outChannels, int kernel, int stride, int padding,
                              int groups, int inputSize) {
        public int outputSize() {
            return (inputSize + 2 * padding - kernel) / stride + 1;
        }

        /** The weight's shape, torchvision's OIHW: [out, in / groups, k, k]. */
        public long[] weightShape() {
            return new long[] {outChannels, inChannels / groups, kernel, kernel};
        }

        /** This convolution without its name: what a kernel computes, shared by every layer of this shape. */
        public Shape shape() {
            return new Shape(inChannels, outChannels, kernel, stride, padding, groups, inputSize);
        }
    }

    /** What a convolution kernel is asked to compute, independent of where in a network it sits. */
    public record Shape(int inChannels, int outChannels, int kernel, int stride, int padding, int groups, int inputSize) {
        public int outputSize() {
            return (inputSize + 2 * padding - kernel) / stride + 1;
        }

        /** A stable text form: {@code 256x512 k1 s2 p0 g1 @14}. */
        @Override
        public String toString() {
            return inChannels + "x" + outChannels + " k" + kernel + " s" + stride + " p" + padding + " g" + groups + " @" + inputSize;
        }
    }

    /** A convolution, the BatchNorm after it (torchvision's name, e.g. {@code layer1.0.bn1}), and whether a ReLU follows. */
    public record ConvUnit(Convolution conv, String norm, boolean relu) {}

    /** {@code relu(main(x) + shortcut(x))}; {@code shortcut} is null for the identity. */
    public record Block(String name, List<ConvUnit> main, ConvUnit shortcut) {}

    public record Head(String name, int inFeatures, int classes) {}

    /** One parameter or running statistic, under its torchvision name. */
    public record Parameter(String name, long[] shape, Kind kind) {
        public boolean trainable() {
            return kind != Kind.RUNNING_MEAN && kind != Kind.RUNNING_VAR;
        }

        public long size() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    public enum Kind { CONV_WEIGHT, NORM_WEIGHT, NORM_BIAS, RUNNING_MEAN, RUNNING_VAR, LINEAR_WEIGHT, LINEAR_BIAS }

    public LayerPlan {
        blocks = List.copyOf(blocks);
    }

    public static LayerPlan of(Architecture arch, Stem stem, int classes, int imageSize) {
        if (classes < 1) {
            throw new IllegalArgumentException("a network needs at least one class, was " + classes);
        }
        boolean imagenet = stem == Stem.IMAGENET;
        int kernel = imagenet ? 7 : 3;
        Convolution stemConv = new Convolution("conv1", 3, STEM_CHANNELS, kernel, imagenet ? 2 : 1, kernel / 2, 1, imageSize);
        int size = stemConv.outputSize();
        if (imagenet) {
            size = (size + 2 - 3) / 2 + 1; // max-pool 3x3, stride 2, padding 1
        }
        if (size < 1) {
            throw new IllegalArgumentException(imageSize + " px is too small for the " + stem.id() + " stem");
        }
        List<Block> blocks = new ArrayList<>();
        int inChannels = STEM_CHANNELS;
        int[] counts = arch.blocksPerStage();
        for (int s = 0; s < counts.length; s++) {
            int planes = STAGE_PLANES[s];
            for (int b = 0; b < counts[s]; b++) {
                int stride = s > 0 && b == 0 ? 2 : 1;
                String name = "layer" + (s + 1) + "." + b;
                List<BlockType.ConvSpec> specs = arch.blockType().mainPath(inChannels, planes, stride, arch.groups(), arch.widthPerGroup());
                List<ConvUnit> main = new ArrayList<>();
                int at = size;
                for (int i = 0; i < specs.size(); i++) {
                    BlockType.ConvSpec c = specs.get(i);
                    Convolution conv = new Convolution(name + ".conv" + (i + 1), c.inChannels(), c.outChannels(), c.kernel(),
                            c.stride(), c.kernel() / 2, c.groups(), at);
                    main.add(new ConvUnit(conv, name + ".bn" + (i + 1), i < specs.size() - 1));
                    at = conv.outputSize();
                }
                int outChannels = planes * arch.blockType().expansion();
                ConvUnit shortcut = stride != 1 || inChannels != outChannels
                        ? new ConvUnit(new Convolution(name + ".downsample.0", inChannels, outChannels, 1, stride, 0, 1, size),
                                name + ".downsample.1", false)
                        : null;
                blocks.add(new Block(name, main, shortcut));
                inChannels = outChannels;
                size = at;
            }
        }
        return new LayerPlan(new ConvUnit(stemConv, "bn1", true), imagenet, blocks, new Head("fc", inChannels, classes), imageSize);
    }

    /** Every convolution with its BatchNorm, in the order the forward runs them (a block's shortcut after its main path). */
    public List<ConvUnit> convUnits() {
        List<ConvUnit> units = new ArrayList<>();
        units.add(stem);
        for (Block block : blocks) {
            units.addAll(block.main());
            if (block.shortcut() != null) {
                units.add(block.shortcut());
            }
        }
        return units;
    }

    /** The distinct kernel shapes of this network, in first-use order. */
    public List<Shape> convolutionShapes() {
        return convUnits().stream().map(u -> u.conv().shape()).distinct().toList();
    }

    /**
     * Every parameter and running statistic under torchvision's names and in its {@code state_dict}
     * order (without {@code num_batches_tracked}, which nothing reads).
     */
    public List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>();
        for (ConvUnit unit : convUnits()) {
            Convolution c = unit.conv();
            long channels = c.outChannels();
            out.add(new Parameter(c.name() + ".weight", c.weightShape(), Kind.CONV_WEIGHT));
            out.add(new Parameter(unit.norm() + ".weight", new long[] {channels}, Kind.NORM_WEIGHT));
            out.add(new Parameter(unit.norm() + ".bias", new long[] {channels}, Kind.NORM_BIAS));
            out.add(new Parameter(unit.norm() + ".running_mean", new long[] {channels}, Kind.RUNNING_MEAN));
            out.add(new Parameter(unit.norm() + ".running_var", new long[] {channels}, Kind.RUNNING_VAR));
        }
        out.add(new Parameter(head.name() + ".weight", new long[] {head.classes(), head.inFeatures()}, Kind.LINEAR_WEIGHT));
        out.add(new Parameter(head.name() + ".bias", new long[] {head.classes()}, Kind.LINEAR_BIAS));
        return out;
    }

    /** Trainable parameters only (running statistics excluded), as torchvision counts them. */
    public long trainableParameterCount() {
        return parameters().stream().filter(Parameter::trainable).mapToLong(Parameter::size).sum();
    }

    /**
     * Output shape (NCHW) after each part for a batch of {@code batch}: conv1, stem (after the max-pool
     * when there is one), layer1..layer4, avgpool (C x 1 x 1) and logits.
     */
    public Map<String, long[]> layerShapes(int batch) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Convolution c = stem.conv();
        shapes.put("conv1", new long[] {batch, c.outChannels(), c.outputSize(), c.outputSize()});
        int size = blocks.isEmpty() ? c.outputSize() : blocks.get(0).main().get(0).conv().inputSize();
        shapes.put("stem", new long[] {batch, c.outChannels(), size, size});
        for (Block block : blocks) {
            Convolution last = block.main().get(block.main().size() - 1).conv();
            shapes.put(block.name().substring(0, block.name().indexOf('.')),
                    new long[] {batch, last.outChannels(), last.outputSize(), last.outputSize()});
        }
        shapes.put("avgpool", new long[] {batch, head.inFeatures(), 1, 1});
        shapes.put("logits", new long[] {batch, head.classes()});
        return shapes;
    }
}
