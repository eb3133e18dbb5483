package dev.petal.trainer.service;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.report.StepCurve;
import dev.petal.trainer.job.TrainingListener;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the current (or last) run of this service is going, for {@code GET /train}'s {@code progress}: the step, loss,
 * learning rate and images/s of the last step, the per-step curve so far (at most {@value #CURVE_POINTS} points, each
 * the mean of the steps it stands for, as the report's curve), each epoch's train loss and valid accuracy, the versions
 * published, and an estimate of the time left. The console draws its training page from it.
 */
@ApplicationScoped
public class RunProgress implements TrainingListener {
    static final int CURVE_POINTS = 400;

    private StepCurve curve = new StepCurve(CURVE_POINTS);
    private final List<Map<String, Object>> epochs = new ArrayList<>();
    private final List<String> published = new ArrayList<>();
    private long startedNanos;
    private long startedAtMillis;
    private long firstStep = -1;
    private long firstStepNanos;
    private int epoch;
    private long step;
    private long totalSteps;
    private double loss = Double.NaN;
    private double learningRate = Double.NaN;
    private double imagesPerSecond;
    private boolean started;

    /** Forgets the previous run. */
    public synchronized void reset() {
        curve = new StepCurve(CURVE_POINTS);
        epochs.clear();
        published.clear();
        startedNanos = System.nanoTime();
        startedAtMillis = System.currentTimeMillis();
        firstStep = -1;
        epoch = 0;
        step = 0;
        totalSteps = 0;
        loss = Double.NaN;
        learningRate = Double.NaN;
        imagesPerSecond = 0;
        started = true;
    }

    @Override
    public synchronized void onStep(int epoch, long step, long totalSteps, float loss, double learningRate, double imagesPerSecond) {
        if (firstStep < 0) {
            firstStep = step;
            firstStepNanos = System.nanoTime();
        }
        this.epoch = epoch;
        this.step = step;
        this.totalSteps = totalSteps;
        this.loss = loss;
        this.learningRate = learningRate;
        this.imagesPerSecond = imagesPerSecond;
        curve.add(step, loss, learningRate);
    }

    @Override
    public synchronized void onEpoch(int epoch, double trainLoss, double validAccuracy) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("epoch", epoch);
        row.put("trainLoss", finite(trainLoss));
        row.put("validAccuracy", finite(validAccuracy));
        epochs.add(row);
    }

    @Override
    public synchronized void onPublished(CheckpointManifest manifest) {
        published.add(manifest.version());
    }

    /** Seconds left at the pace of the steps so far (the first step, which builds the kernels, left out); null before two steps. */
    synchronized Double etaSeconds() {
        long done = step - firstStep;
        if (firstStep < 0 || done <= 0 || totalSteps <= step) {
            return totalSteps > 0 && step >= totalSteps ? 0.0 : null;
        }
        double perStep = (System.nanoTime() - firstStepNanos) / 1e9 / done;
        return perStep * (totalSteps - step);
    }

    /** The progress as JSON-ready values; empty before the service's first run. */
    public synchronized Map<String, Object> toMap() {
        if (!started) {
            return Map.of();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("startedAt", java.time.Instant.ofEpochMilli(startedAtMillis).toString());
        m.put("elapsedSeconds", (System.nanoTime() - startedNanos) / 1e9);
        m.put("epoch", epoch);
        m.put("step", step);
        m.put("totalSteps", totalSteps);
        m.put("loss", finite(loss));
        m.put("learningRate", finite(learningRate));
        m.put("imagesPerSecond", finite(imagesPerSecond));
        m.put("etaSeconds", etaSeconds());
        StepCurve.Points points = curve.points();
        List<List<Object>> rows = new ArrayList<>(points.size());
        for (int i = 0; i < points.size(); i++) {
            rows.add(List.of(points.steps()[i], finiteOrZero(points.loss()[i]), finiteOrZero(points.learningRate()[i])));
        }
        m.put("curve", rows);
        m.put("curveColumns", List.of("step", "loss", "learningRate"));
        m.put("epochs", List.copyOf(epochs));
        m.put("published", List.copyOf(published));
        return m;
    }

    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }

    private static double finiteOrZero(double value) {
        return Double.isFinite(value) ? value : 0;
    }
}
