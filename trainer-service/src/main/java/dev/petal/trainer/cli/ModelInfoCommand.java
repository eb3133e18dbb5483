package dev.petal.trainer.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ResNet;
import dev.petal.common.model.ResNetConfig;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Prints a ResNet's parameter count and layer shapes as one JSON object. */
@Command(
        name = "model-info",
        mixinStandardHelpOptions = true,
        description = "Print a ResNet's exact parameter count and output shapes as one JSON line.")
public class ModelInfoCommand implements Callable<Integer> {

    @Option(names = "--arch", defaultValue = "resnet18", converter = ArchitectureConverter.class,
            description = "resnet18, resnet34, resnet50, resnet101 or resnet152 (default: ${DEFAULT-VALUE}).")
    Architecture arch;

    @Option(names = "--num-classes", defaultValue = "5", description = "Size of the head (default: ${DEFAULT-VALUE}).")
    int numClasses;

    @Option(names = "--image-size", defaultValue = "224", description = "Square input size in pixels (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--small-stem", description = "3x3 stride-1 stem without max-pool, for 32-64 px inputs.")
    boolean smallStem;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (numClasses < 1 || imageSize < 32) {
            throw new ParameterException(spec.commandLine(),
                    "--num-classes must be >= 1 and --image-size >= 32 (got " + numClasses + " and " + imageSize + ")");
        }
        ResNetConfig config = new ResNetConfig(arch, numClasses, smallStem, false);
        ResNet net = new ResNet(config);
        Shape input = new Shape(1, 3, imageSize, imageSize);
        long parameters;
        try (NDManager manager = PyTorchEngine.get().newBaseManager()) {
            net.initialize(manager, DataType.FLOAT32, input);
            parameters = net.trainableParameterCount();
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode out = json.createObjectNode();
        out.put("arch", config.architecture().id());
        out.put("blockType", config.architecture().blockType().name().toLowerCase());
        out.putPOJO("blocksPerStage", config.architecture().blocksPerStage());
        out.put("numClasses", numClasses);
        out.put("imageSize", imageSize);
        out.put("smallStem", smallStem);
        out.put("parameters", parameters);
        ObjectNode shapes = out.putObject("shapes");
        for (Map.Entry<String, Shape> e : net.layerShapes(input).entrySet()) {
            // Drop the batch dimension: shapes read as C x H x W, as in the tutorial.
            shapes.putPOJO(e.getKey(), e.getValue().slice(1).getShape());
        }
        System.out.println(json.writeValueAsString(out));
        return 0;
    }
}
