package dev.petal.localstack.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code ./petal demo --epochs N}: the trainer gets one --epochs, N, whether the preset names its own or not. */
class DemoEpochsTest {
    @Test
    void replacesThePresetsEpochs() {
        List<String> train = new ArrayList<>(List.of("train", "--dataset", "shapes"));
        train.addAll(DemoCommand.GENERATED);
        DemoCommand.withEpochs(train, 4);
        assertEquals(1, train.stream().filter("--epochs"::equals).count(), String.join(" ", train));
        assertEquals("4", train.get(train.indexOf("--epochs") + 1));
        assertEquals(DemoCommand.GENERATED.size() + 3, train.size());
    }

    @Test
    void addsThemToTheSeedRecipe() {
        List<String> train = new ArrayList<>(List.of("train", "--dataset", "flowers"));
        DemoCommand.withEpochs(train, 2);
        assertEquals(List.of("train", "--dataset", "flowers", "--epochs", "2"), train);
    }
}
