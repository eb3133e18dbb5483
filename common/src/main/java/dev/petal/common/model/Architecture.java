package dev.petal.common.model;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The ResNet family as one table: a block type and the number of blocks in each of the four
 * stages. Adding a depth (ResNet-200: BOTTLENECK, 3, 24, 36, 3) is one row.
 */
public enum Architecture {
    RESNET18(BlockType.BASIC, 2, 2, 2, 2),
    RESNET34(BlockType.BASIC, 3, 4, 6, 3),
    RESNET50(BlockType.BOTTLENECK, 3, 4, 6, 3),
    RESNET101(BlockType.BOTTLENECK, 3, 4, 23, 3),
    RESNET152(BlockType.BOTTLENECK, 3, 8, 36, 3);

    private final BlockType blockType;
    private final int[] blocksPerStage;

    Architecture(BlockType blockType, int... blocksPerStage) {
        this.blockType = blockType;
        this.blocksPerStage = blocksPerStage;
    }

    public BlockType blockType() {
        return blockType;
    }

    public int[] blocksPerStage() {
        return blocksPerStage.clone();
    }

    /** The lower-case name users type and manifests store: {@code resnet50}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code resnet50}, {@code ResNet-50} or {@code 50}; the error lists what is valid. */
    public static Architecture parse(String text) {
        String normalized = text.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        if (!normalized.startsWith("resnet")) {
            normalized = "resnet" + normalized;
        }
        for (Architecture arch : values()) {
            if (arch.id().equals(normalized)) {
                return arch;
            }
        }
        throw new IllegalArgumentException("unknown architecture '" + text + "'; choose one of " + ids());
    }

    public static List<String> ids() {
        return Arrays.stream(values()).map(Architecture::id).collect(Collectors.toList());
    }
}
