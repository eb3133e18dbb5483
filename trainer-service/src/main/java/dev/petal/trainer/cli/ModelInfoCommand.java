package dev.petal.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.petal.common.cli.ModelOptions;
import dev.petal.common.model.LayerPlan;
import dev.petal.common.model.NetworkSpec;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Prints a ResNet's parameter count and layer shapes as one JSON object, from its plan (no libtorch needed). */
@Command(
        name = "model-info",
        mixinStandardHelpOptions = true,
        description = "Print a ResNet's exact parameter count and output shapes as one JSON line.")
public class ModelInfoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--num-classes", defaultValue = "5", description = "Size of the head (default: ${DEFAULT-VALUE}).")
    int numClasses;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        NetworkSpec network;
        LayerPlan plan;
        try {
            network = model.network();
            if (numClasses < 1) {
                throw new IllegalArgumentException("--num-classes must be >= 1, was " + numClasses);
            }
            plan = LayerPlan.of(network.architecture(), network.stem(), numClasses, network.imageSize());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode out = json.createObjectNode();
        out.put("arch", network.architecture().id());
        out.put("blockType", network.architecture().blockType().name().toLowerCase());
        out.putPOJO("blocksPerStage", network.architecture().blocksPerStage());
        out.put("groups", network.architecture().groups());
        out.put("widthPerGroup", network.architecture().widthPerGroup());
        out.put("numClasses", numClasses);
        out.put("imageSize", network.imageSize());
        out.put("stem", network.stem().id());
        out.put("parameters", plan.trainableParameterCount());
        ObjectNode shapes = out.putObject("shapes");
        for (Map.Entry<String, long[]> e : plan.layerShapes(1).entrySet()) {
            // Drop the batch dimension: shapes read as C x H x W, as in the tutorial.
            shapes.putPOJO(e.getKey(), Arrays.copyOfRange(e.getValue(), 1, e.getValue().length));
        }
        System.out.println(json.writeValueAsString(out));
        return 0;
    }
}
