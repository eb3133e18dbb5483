package dev.petal.common.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.initializer.Initializer;

/**
 * The two residual block kinds of the ResNet paper. Each knows its channel expansion and how to
 * build its main path; {@link ResidualBlock} adds the shortcut and the final ReLU.
 */
public enum BlockType {
    /** Two 3x3 convolutions; used by ResNet-18 and ResNet-34. */
    BASIC(1) {
        @Override
        SequentialBlock mainPath(int planes, int stride, boolean zeroInitLastNorm) {
            return new SequentialBlock()
                    .add(conv(planes, 3, stride))
                    .add(norm(false))
                    .add(Activation.reluBlock())
                    .add(conv(planes, 3, 1))
                    .add(norm(zeroInitLastNorm));
        }
    },
    /** 1x1 reduce, 3x3 (carrying the stride, as torchvision's "ResNet v1.5"), 1x1 expand by 4. */
    BOTTLENECK(4) {
        @Override
        SequentialBlock mainPath(int planes, int stride, boolean zeroInitLastNorm) {
            return new SequentialBlock()
                    .add(conv(planes, 1, 1))
                    .add(norm(false))
                    .add(Activation.reluBlock())
                    .add(conv(planes, 3, stride))
                    .add(norm(false))
                    .add(Activation.reluBlock())
                    .add(conv(planes * 4, 1, 1))
                    .add(norm(zeroInitLastNorm));
        }
    };

    /** BatchNorm epsilon, PyTorch's default; inference folding needs the same value. */
    static final float NORM_EPSILON = 1e-5f;
    /** DJL's BatchNorm momentum: running = momentum * running + (1 - momentum) * batch; PyTorch's 0.1 is 1 - this. */
    static final float NORM_MOMENTUM = 0.9f;

    private final int expansion;

    BlockType(int expansion) {
        this.expansion = expansion;
    }

    /** Output channels per input "plane": 1 for BASIC, 4 for BOTTLENECK. */
    public int expansion() {
        return expansion;
    }

    abstract SequentialBlock mainPath(int planes, int stride, boolean zeroInitLastNorm);

    /** Square convolution without bias (BatchNorm follows), padded to keep size at stride 1. */
    static Block conv(int filters, int kernel, int stride) {
        return Conv2d.builder()
                .setFilters(filters)
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(kernel / 2, kernel / 2))
                .optBias(false)
                .build();
    }

    /**
     * BatchNorm with PyTorch's defaults (eps 1e-5, running-stat momentum 0.1). A zero gamma makes
     * the block start as the identity, which helps deep nets train (Goyal et al., 2017).
     */
    static Block norm(boolean zeroGamma) {
        Block norm = BatchNorm.builder().optEpsilon(NORM_EPSILON).optMomentum(NORM_MOMENTUM).build();
        if (zeroGamma) {
            norm.setInitializer(Initializer.ZEROS, "gamma");
        }
        return norm;
    }
}
