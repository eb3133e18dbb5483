package dev.petal.common.checkpoint;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps our ResNet's DJL parameter names onto torchvision's {@code state_dict} names and back.
 *
 * <p>DJL names a parameter by its path of numbered children: {@code 01stem_01Conv2d_weight},
 * {@code 03layer2_01ResidualBlock_01main_04Conv2d_weight},
 * {@code 03layer2_01ResidualBlock_02shortcut_02BatchNorm_runningVar}, {@code 06fc_bias}. A block's
 * main path repeats (conv, BatchNorm, ReLU), so the k-th conv sits at position 3k-2 and the k-th
 * BatchNorm at 3k-1; torchvision calls them {@code conv<k>} and {@code bn<k>}, the shortcut
 * {@code downsample.0}/{@code downsample.1}.
 */
public final class TorchvisionNames {
    private static final Pattern STEM = Pattern.compile("\\d+stem_(\\d+)(Conv2d|BatchNorm)_(\\w+)");
    private static final Pattern BLOCK = Pattern.compile(
            "\\d+layer(\\d)_(\\d+)ResidualBlock_\\d+(main|shortcut)_(\\d+)(Conv2d|BatchNorm)_(\\w+)");
    private static final Pattern HEAD = Pattern.compile("\\d+fc_(weight|bias)");

    private static final Map<String, String> BATCH_NORM = Map.of(
            "gamma", "weight", "beta", "bias", "runningMean", "running_mean", "runningVar", "running_var");

    private TorchvisionNames() {}

    /** torchvision's name for a DJL parameter name of {@link dev.petal.common.model.ResNet}. */
    public static String toTorchvision(String djlName) {
        Matcher m = HEAD.matcher(djlName);
        if (m.matches()) {
            return "fc." + m.group(1);
        }
        m = STEM.matcher(djlName);
        if (m.matches()) {
            return (m.group(2).equals("Conv2d") ? "conv1." : "bn1.") + parameter(m.group(2), m.group(3), djlName);
        }
        m = BLOCK.matcher(djlName);
        if (m.matches()) {
            String prefix = "layer" + m.group(1) + "." + (Integer.parseInt(m.group(2)) - 1) + ".";
            int position = Integer.parseInt(m.group(4));
            String kind = m.group(5);
            String param = parameter(kind, m.group(6), djlName);
            if (m.group(3).equals("shortcut")) {
                return prefix + "downsample." + (kind.equals("Conv2d") ? 0 : 1) + "." + param;
            }
            int index = kind.equals("Conv2d") ? (position + 2) / 3 : (position + 1) / 3;
            return prefix + (kind.equals("Conv2d") ? "conv" : "bn") + index + "." + param;
        }
        throw new IllegalArgumentException("not a ResNet parameter name: " + djlName);
    }

    /** Whether a torchvision key carries no weight we use ({@code num_batches_tracked}). */
    public static boolean isIgnored(String torchvisionName) {
        return torchvisionName.endsWith(".num_batches_tracked");
    }

    /** Whether a torchvision key belongs to the classification head. */
    public static boolean isHead(String torchvisionName) {
        return torchvisionName.startsWith("fc.");
    }

    private static String parameter(String kind, String djlParam, String djlName) {
        if (kind.equals("Conv2d")) {
            if (!djlParam.equals("weight")) {
                throw new IllegalArgumentException("unexpected convolution parameter in " + djlName);
            }
            return "weight";
        }
        String name = BATCH_NORM.get(djlParam);
        if (name == null) {
            throw new IllegalArgumentException("unexpected BatchNorm parameter in " + djlName);
        }
        return name;
    }
}
