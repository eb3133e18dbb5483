package dev.petal.common.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The ResNet family as one table, as torchvision's {@code models/resnet.py} has it: a block type, the
 * number of blocks in each of the four stages, and the Bottleneck's grouping (ResNeXt) and width per
 * group (Wide ResNet). Adding a variant is one row; {@link LayerPlan} builds every one the same way.
 */
public enum Architecture {
    RESNET18(BlockType.BASIC, 1, 64, 2, 2, 2, 2),
    RESNET34(BlockType.BASIC, 1, 64, 3, 4, 6, 3),
    RESNET50(BlockType.BOTTLENECK, 1, 64, 3, 4, 6, 3),
    RESNET101(BlockType.BOTTLENECK, 1, 64, 3, 4, 23, 3),
    RESNET152(BlockType.BOTTLENECK, 1, 64, 3, 8, 36, 3),
    RESNEXT50_32X4D(BlockType.BOTTLENECK, 32, 4, 3, 4, 6, 3),
    WIDE_RESNET50_2(BlockType.BOTTLENECK, 1, 128, 3, 4, 6, 3);

    private final BlockType blockType;
    private final int groups;
    private final int widthPerGroup;
    private final int[] blocksPerStage;

    Architecture(BlockType blockType, int groups, int widthPerGroup, int... blocksPerStage) {
        this.blockType = blockType;
        this.groups = groups;
        this.widthPerGroup = widthPerGroup;
        this.blocksPerStage = blocksPerStage;
    }

    public BlockType blockType() {
        return blockType;
    }

    /** Groups of the Bottleneck's 3x3 convolution: 32 for ResNeXt-50 (32x4d), else 1. */
    public int groups() {
        return groups;
    }

    /** Channels per group of the Bottleneck's 3x3 convolution at 64 planes: 4 for ResNeXt, 128 for Wide ResNet-50-2. */
    public int widthPerGroup() {
        return widthPerGroup;
    }

    public int[] blocksPerStage() {
        return blocksPerStage.clone();
    }

    /** The name users type and manifests store, torchvision's: {@code resnet50}, {@code resnext50_32x4d}. */
    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses an id, or {@code ResNet-50} and {@code 50} for the plain depths; the error lists what is valid. */
    @JsonCreator
    public static Architecture parse(String text) {
        String typed = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        String plain = typed.replace("-", "").replace("_", "");
        if (plain.matches("\\d+")) {
            plain = "resnet" + plain;
        }
        for (Architecture arch : values()) {
            if (arch.id().equals(typed) || arch.id().equals(plain)) {
                return arch;
            }
        }
        throw new IllegalArgumentException("unknown architecture '" + text + "'; choose one of " + ids());
    }

    public static List<String> ids() {
        return Arrays.stream(values()).map(Architecture::id).toList();
    }
}
