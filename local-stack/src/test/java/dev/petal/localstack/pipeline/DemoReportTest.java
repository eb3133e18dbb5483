package dev.petal.localstack.pipeline;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.inference.Prediction;
import dev.petal.common.records.ValidSplit;
import dev.petal.common.report.StepCurve;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoReportTest {
    @TempDir
    Path dir;

    @Test
    void showsTheTrainingCurvesTheScoredMatrixAndSamplesWithIntegerCounts() throws Exception {
        Map<String, ValidSplit.Image> sent = new LinkedHashMap<>();
        Map<String, Prediction> predictions = new LinkedHashMap<>();
        for (int i = 0; i < 12; i++) {
            String label = i % 2 == 0 ? "circle" : "square";
            String predicted = i % 3 == 0 ? "square" : label;
            sent.put("k" + i, new ValidSplit.Image("id" + i, label, png(i % 2 == 0 ? Color.RED : Color.BLUE), null, "shapes/" + i + ".png"));
            predictions.put("k" + i, Prediction.of("k" + i, List.of(new Prediction.Scored(predicted, 0.8)), null, null, 1.0));
        }
        DemoResults results = new DemoResults(sent, new ScoringRound.Answers(predictions, Map.of(), 0));
        List<Map<String, Object>> epochs = new ArrayList<>();
        for (int e = 1; e <= 2; e++) {
            epochs.add(Map.of("epoch", e, "trainLoss", 1.0 / e, "validLoss", e == 1 ? 50.0 : 0.5, "trainAccuracy", 0.5,
                    "validAccuracy", 0.6, "validImages", 202.0, "trainImages", 960.0, "imagesPerSecond", 41.5));
        }
        StepCurve steps = new StepCurve();
        for (int step = 1; step <= 120; step++) {
            steps.add(step, 2.0 * Math.exp(-step / 20.0), 1e-3);
        }

        Path file = DemoReport.write(dir.resolve("report.html"), "demo-model", "v1", "shapes", results,
                new TrainingHistory.Run(epochs, steps), 12, 0);
        String html = Files.readString(file);
        assertTrue(html.contains("Training loss per step") && html.contains("<svg"), "training curves");
        assertTrue(html.contains("data-y-scale=\"log\""), "epoch 1's valid loss of 50 puts the loss on a log axis");
        assertTrue(html.contains("Confusion matrix") && html.contains("data:image/jpeg;base64,"), "matrix and samples");
        assertTrue(html.contains(">202<") && !html.contains(">202.0"), "counts as integers");
        assertTrue(html.contains(">66.7%<"), "accuracy with one decimal: 8 of 12");
    }

    @Test
    void aVersionWithoutHistorySaysSo() throws Exception {
        DemoResults results = new DemoResults(Map.of(), new ScoringRound.Answers(Map.of(), Map.of(), 0));
        String html = Files.readString(DemoReport.write(dir.resolve("empty.html"), "m", "v", "d", results,
                new TrainingHistory.Run(List.of(), new StepCurve()), 0, 0));
        assertTrue(html.contains("No training history yet"));
        assertFalse(html.contains("<svg"));
    }

    private static byte[] png(Color colour) throws Exception {
        BufferedImage image = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
        image.getGraphics().setColor(colour);
        image.getGraphics().fillRect(0, 0, 40, 40);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }
}
