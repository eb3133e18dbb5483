package dev.petal.common.model;

import java.util.List;

/**
 * The two residual block kinds of the ResNet paper, as torchvision defines them: the convolutions of
 * a block's main path. {@link LayerPlan} adds BatchNorms, ReLUs, the shortcut and the sum.
 */
public enum BlockType {
    /** Two 3x3 convolutions (ResNet-18 and -34); the first carries the stride. */
    BASIC(1) {
        @Override
        List<ConvSpec> mainPath(int inChannels, int planes, int stride, int groups, int widthPerGroup) {
            if (groups != 1 || widthPerGroup != 64) {
                throw new IllegalArgumentException("a basic block has one group of 64 channels per plane");
            }
            return List.of(new ConvSpec(inChannels, planes, 3, stride, 1), new ConvSpec(planes, planes, 3, 1, 1));
        }
    },
    /**
     * 1x1 reduce, grouped 3x3 (carrying the stride, torchvision's "ResNet v1.5"), 1x1 expand to planes x 4.
     * The inner width is planes x widthPerGroup / 64 x groups: ResNeXt and Wide ResNet change only that.
     */
    BOTTLENECK(4) {
        @Override
        List<ConvSpec> mainPath(int inChannels, int planes, int stride, int groups, int widthPerGroup) {
            int width = (int) (planes * (widthPerGroup / 64.0)) * groups;
            return List.of(
                    new ConvSpec(inChannels, width, 1, 1, 1),
                    new ConvSpec(width, width, 3, stride, groups),
                    new ConvSpec(width, planes * expansion(), 1, 1, 1));
        }
    };

    /** One convolution of a main path: channels, square kernel, stride and groups (padding keeps the size at stride 1). */
    record ConvSpec(int inChannels, int outChannels, int kernel, int stride, int groups) {}

    private final int expansion;

    BlockType(int expansion) {
        this.expansion = expansion;
    }

    /** Output channels per input "plane": 1 for BASIC, 4 for BOTTLENECK. */
    public int expansion() {
        return expansion;
    }

    abstract List<ConvSpec> mainPath(int inChannels, int planes, int stride, int groups, int widthPerGroup);
}
