package dev.petal.common.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * The training loss and learning rate of every optimizer step, kept to at most {@code maxPoints}
 * points however long the run: when full, neighbouring points merge in pairs and each point from then
 * on stands for twice as many steps (the mean of their loss and rate, at the bucket's last step).
 * Memory stays fixed and a long run's curve stays readable; the file it makes is a few tens of kB.
 */
public final class StepCurve {
    /** About what a chart's width can show. */
    public static final int DEFAULT_MAX_POINTS = 2000;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The curve's points, oldest first: the last step each stands for, its mean loss and learning rate. */
    public record Points(long[] steps, double[] loss, double[] learningRate) {
        public int size() {
            return steps.length;
        }
    }

    private final int maxPoints;
    private final long[] steps;
    private final double[] loss;
    private final double[] learningRate;
    private int size;
    private int stepsPerPoint = 1;
    // The bucket being filled: stepsPerPoint steps make one point.
    private int partialSteps;
    private double partialLossSum;
    private double partialRateSum;
    private long partialLastStep;

    public StepCurve() {
        this(DEFAULT_MAX_POINTS);
    }

    public StepCurve(int maxPoints) {
        if (maxPoints < 2 || maxPoints % 2 != 0) {
            throw new IllegalArgumentException("maxPoints must be even and at least 2, was " + maxPoints);
        }
        this.maxPoints = maxPoints;
        this.steps = new long[maxPoints];
        this.loss = new double[maxPoints];
        this.learningRate = new double[maxPoints];
    }

    /** Records one optimizer step (1-based, increasing). */
    public void add(long step, double stepLoss, double rate) {
        partialSteps++;
        partialLossSum += stepLoss;
        partialRateSum += rate;
        partialLastStep = step;
        if (partialSteps == stepsPerPoint) {
            append(step, partialLossSum / partialSteps, partialRateSum / partialSteps);
            partialSteps = 0;
            partialLossSum = 0;
            partialRateSum = 0;
        }
    }

    private void append(long step, double meanLoss, double meanRate) {
        steps[size] = step;
        loss[size] = meanLoss;
        learningRate[size] = meanRate;
        size++;
        if (size == maxPoints) {
            for (int i = 0; i < size / 2; i++) {
                steps[i] = steps[2 * i + 1];
                loss[i] = (loss[2 * i] + loss[2 * i + 1]) / 2;
                learningRate[i] = (learningRate[2 * i] + learningRate[2 * i + 1]) / 2;
            }
            size /= 2;
            stepsPerPoint *= 2;
        }
    }

    /** Steps each full point stands for (1 until the curve first fills). */
    public int stepsPerPoint() {
        return stepsPerPoint;
    }

    public boolean isEmpty() {
        return size == 0 && partialSteps == 0;
    }

    /** Every point, the bucket still filling included, so the curve reaches the latest step. */
    public Points points() {
        int n = size + (partialSteps > 0 ? 1 : 0);
        long[] s = Arrays.copyOf(steps, n);
        double[] l = Arrays.copyOf(loss, n);
        double[] r = Arrays.copyOf(learningRate, n);
        if (partialSteps > 0) {
            s[size] = partialLastStep;
            l[size] = partialLossSum / partialSteps;
            r[size] = partialRateSum / partialSteps;
        }
        return new Points(s, l, r);
    }

    /** The curve as JSON, the bucket being filled included, so that {@link #fromJson} continues it exactly. */
    public byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("maxPoints", maxPoints);
        root.put("stepsPerPoint", stepsPerPoint);
        ArrayNode s = root.putArray("step");
        ArrayNode l = root.putArray("loss");
        ArrayNode r = root.putArray("learningRate");
        for (int i = 0; i < size; i++) {
            s.add(steps[i]);
            addFinite(l, loss[i]);
            addFinite(r, learningRate[i]);
        }
        ObjectNode partial = root.putObject("partial");
        partial.put("steps", partialSteps);
        partial.put("lastStep", partialLastStep);
        putFinite(partial, "lossSum", partialLossSum);
        putFinite(partial, "learningRateSum", partialRateSum);
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads {@link #toJson}; a value that was not a number (a diverged loss) comes back as NaN. */
    public static StepCurve fromJson(byte[] json) throws IOException {
        JsonNode root = JSON.readTree(json);
        StepCurve curve = new StepCurve(root.path("maxPoints").asInt(DEFAULT_MAX_POINTS));
        JsonNode s = root.path("step");
        if (s.size() >= curve.maxPoints) {
            throw new IOException("step curve has " + s.size() + " points, more than its maxPoints " + curve.maxPoints);
        }
        for (int i = 0; i < s.size(); i++) {
            curve.steps[i] = s.get(i).asLong();
            curve.loss[i] = number(root.path("loss").get(i));
            curve.learningRate[i] = number(root.path("learningRate").get(i));
        }
        curve.size = s.size();
        curve.stepsPerPoint = Math.max(1, root.path("stepsPerPoint").asInt(1));
        JsonNode partial = root.path("partial");
        curve.partialSteps = partial.path("steps").asInt(0);
        curve.partialLastStep = partial.path("lastStep").asLong(0);
        curve.partialLossSum = number(partial.get("lossSum"));
        curve.partialRateSum = number(partial.get("learningRateSum"));
        return curve;
    }

    private static void addFinite(ArrayNode array, double v) {
        if (Double.isFinite(v)) {
            array.add(v);
        } else {
            array.addNull();
        }
    }

    private static void putFinite(ObjectNode node, String name, double v) {
        if (Double.isFinite(v)) {
            node.put(name, v);
        } else {
            node.putNull(name);
        }
    }

    private static double number(JsonNode node) {
        return node != null && node.isNumber() ? node.asDouble() : Double.NaN;
    }
}
