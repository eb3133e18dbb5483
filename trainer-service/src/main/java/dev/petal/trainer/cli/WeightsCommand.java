package dev.petal.trainer.cli;

import picocli.CommandLine.Command;

/** {@code ./petal weights ...}: torchvision's pretrained weights for {@code --init-weights torchvision:<arch>}. */
@Command(name = "weights", mixinStandardHelpOptions = true,
        description = "torchvision's ImageNet weights, for train --init-weights torchvision:<arch>.",
        subcommands = {WeightsFetchCommand.class})
public class WeightsCommand {}
