package dev.petal.common.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StepCurveTest {
    @Test
    void keepsEveryStepUntilFull() {
        StepCurve curve = new StepCurve(100);
        for (int step = 1; step <= 99; step++) {
            curve.add(step, step, step / 1000.0);
        }
        StepCurve.Points points = curve.points();
        assertEquals(99, points.size());
        assertEquals(1, curve.stepsPerPoint());
        assertEquals(42.0, points.loss()[41]);
    }

    @Test
    void aLongRunStaysBoundedAndStillSpansEveryStep() {
        StepCurve curve = new StepCurve(2000);
        for (int step = 1; step <= 1_000_000; step++) {
            curve.add(step, 1.0 / step, 1e-3);
        }
        StepCurve.Points points = curve.points();
        assertTrue(points.size() <= 2000 && points.size() > 1000, "points: " + points.size());
        assertEquals(1_000_000, points.steps()[points.size() - 1], "reaches the last step");
        assertTrue(points.steps()[0] <= curve.stepsPerPoint(), "starts with the first bucket");
        assertEquals(512, curve.stepsPerPoint(), "merged 9 times: 2000 x 512 steps would fill it again");
        assertEquals(1e-3, points.learningRate()[points.size() / 2], 1e-12);
    }

    @Test
    void aPointIsTheMeanOfTheStepsItStandsFor() {
        StepCurve curve = new StepCurve(4);
        for (int step = 1; step <= 8; step++) {
            curve.add(step, step, 10 * step);
        }
        // Steps 1-4 fill it: pairs merge into 2-step points. Steps 5-8 add two 2-step points: full again,
        // so the pairs merge into 4-step points.
        StepCurve.Points points = curve.points();
        assertEquals(4, curve.stepsPerPoint());
        assertArrayEquals(new long[] {4, 8}, points.steps());
        assertArrayEquals(new double[] {2.5, 6.5}, points.loss());
        assertArrayEquals(new double[] {25, 65}, points.learningRate());
    }

    @Test
    void jsonContinuesTheCurveExactlyAsAResumedRunNeeds() throws Exception {
        StepCurve straight = new StepCurve(64);
        StepCurve interrupted = new StepCurve(64);
        for (int step = 1; step <= 1001; step++) {
            double loss = step == 500 ? Double.NaN : Math.exp(-step / 100.0);
            straight.add(step, loss, step * 1e-6);
            interrupted.add(step, loss, step * 1e-6);
            if (step == 777) {
                interrupted = StepCurve.fromJson(interrupted.toJson());
            }
        }
        assertArrayEquals(straight.points().steps(), interrupted.points().steps());
        assertArrayEquals(straight.points().loss(), interrupted.points().loss());
        assertArrayEquals(straight.points().learningRate(), interrupted.points().learningRate());
        assertTrue(hasNaN(straight.points().loss()), "a diverged step stays visible, as a gap");
    }

    private static boolean hasNaN(double[] values) {
        for (double v : values) {
            if (Double.isNaN(v)) {
                return true;
            }
        }
        return false;
    }
}
