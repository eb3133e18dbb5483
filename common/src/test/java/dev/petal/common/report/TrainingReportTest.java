package dev.petal.common.report;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingReportTest {
    @Test
    void countsAreIntegersPercentagesHaveOneDecimalAndTablesScrollInTheirBox() {
        String html = TrainingReport.html("m", "v1", SyntheticRun.epochs(), SyntheticRun.steps(), SyntheticRun.validation());
        assertFalse(html.contains(">202.0"), "valid images as an integer");
        assertTrue(html.contains(">202<") && html.contains(">3,454<"), "counts");
        assertTrue(html.contains(">75.4%<") && html.contains(">83.6%<"), "accuracies with one decimal");
        assertTrue(html.contains("<div class=\"table-wrap\"><table>"), "tables scroll inside their box");
        assertTrue(html.contains("overflow-x:auto"), "the box scrolls");
    }

    @Test
    void hasStepAndEpochCurvesTheConfusionMatrixAndTheMisclassifiedImages() {
        String html = TrainingReport.html("m", "v1", SyntheticRun.epochs(), SyntheticRun.steps(), SyntheticRun.validation());
        for (String title : List.of("Training loss per step", "Learning rate per step", "Loss per epoch", "Accuracy per epoch",
                "Training speed per epoch", "Confusion matrix", "Misclassified images")) {
            assertTrue(html.contains(">" + title + "<"), title);
        }
        assertTrue(html.contains("true rose, predicted tulip: 9 of 38 (23.7%)"), "a cell knows its row share");
        assertTrue(html.contains(">71.1%<"), "rose's accuracy, 27 of 38");
        assertTrue(html.contains("2 of 44"), "the sample against all misclassified images");
        assertTrue(html.contains("data:image/jpeg;base64,"), "thumbnails inside the file");
        assertFalse(html.contains("<script"), "no script: the file opens anywhere, offline");
        assertFalse(html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"), "nothing fetched");
    }

    @Test
    void aMidEpochCheckpointHasCurvesButNoValidationYet() {
        String html = TrainingReport.html("m", "v1-s000100", List.of(), SyntheticRun.steps(), null);
        assertTrue(html.contains("Training loss per step"));
        assertFalse(html.contains("Confusion matrix"));
        assertFalse(html.contains("Loss per epoch"));
    }

    @Test
    void aLongRunSaysWhatEachPointStandsFor() {
        StepCurve curve = new StepCurve(100);
        for (int step = 1; step <= 1000; step++) {
            curve.add(step, 1, 1e-3);
        }
        assertTrue(TrainingReport.trainingSection(List.of(), curve).contains("the mean of 16 steps"));
    }
}
