package dev.petal.tools.soak;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;

/**
 * What a soak sent and what came back for it: every input key with its send time and whether it was
 * a deliberately bad input, every prediction and dead letter read for those keys, and the model
 * version each prediction names. Thread-safe (the sender, the reader and the reporter share it).
 *
 * <p>The counts reconcile when every input came back exactly once: inputs == predictions + dead
 * letters, with nothing missing and nothing twice.
 */
public final class SoakLedger {
    /** One input: when it was sent and whether it was garbage on purpose. */
    private record Sent(long sentNanos, boolean bad) {}

    /** When a version was first seen in a prediction (read time), and the send time of that input. */
    public record FirstSeen(long readNanos, long sentNanos) {}

    private final Map<String, Sent> sent = new HashMap<>();
    private final Map<String, Integer> outputs = new HashMap<>();
    private final List<Double> predictionLatencies = new ArrayList<>();
    private final List<Long> predictionSentNanos = new ArrayList<>();
    private final List<Double> deadLetterLatencies = new ArrayList<>();
    private final Map<String, Integer> byVersion = new LinkedHashMap<>();
    private final Map<String, FirstSeen> firstSeen = new HashMap<>();
    private final Map<String, Integer> versionOrder = new HashMap<>();
    private final Map<String, Integer> deadLetterReasons = new LinkedHashMap<>();
    private int predictions;
    private int deadLetters;
    private int duplicates;
    private int goodToDeadLetters;
    private int badToPredictions;
    private int unknownKeys;
    private int olderVersionAfterNewer;
    private int newestOrderSeen = -1;
    private int sendFailures;
    private int badSent;

    /** Declares the versions in the order they were published, so a prediction from an older one after a newer one can be counted. */
    public synchronized void versionPublished(String version) {
        versionOrder.putIfAbsent(version, versionOrder.size());
    }

    public synchronized void sent(String key, boolean bad, long nanos) {
        sent.put(key, new Sent(nanos, bad));
        if (bad) {
            badSent++;
        }
    }

    /** The producer could not deliver this input: it is not counted as an input. */
    public synchronized void sendFailed(String key) {
        Sent s = sent.remove(key);
        if (s != null) {
            sendFailures++;
            if (s.bad()) {
                badSent--;
            }
        }
    }

    public synchronized void prediction(String key, String version, long readNanos) {
        Sent s = output(key);
        if (s == null) {
            return;
        }
        predictions++;
        if (s.bad()) {
            badToPredictions++;
        }
        predictionLatencies.add((readNanos - s.sentNanos()) / 1e6);
        predictionSentNanos.add(s.sentNanos());
        String v = version == null ? "?" : version;
        byVersion.merge(v, 1, Integer::sum);
        firstSeen.putIfAbsent(v, new FirstSeen(readNanos, s.sentNanos()));
        Integer order = versionOrder.get(v);
        if (order != null) {
            if (order < newestOrderSeen) {
                olderVersionAfterNewer++;
            }
            newestOrderSeen = Math.max(newestOrderSeen, order);
        }
    }

    public synchronized void deadLetter(String key, String errorClass, long readNanos) {
        Sent s = output(key);
        if (s == null) {
            return;
        }
        deadLetters++;
        if (!s.bad()) {
            goodToDeadLetters++;
        }
        deadLetterLatencies.add((readNanos - s.sentNanos()) / 1e6);
        deadLetterReasons.merge(errorClass == null ? "?" : errorClass, 1, Integer::sum);
    }

    /** Counts the output against its input; null (and counted) when the key was never sent or came back before. */
    private Sent output(String key) {
        Sent s = sent.get(key);
        if (s == null) {
            unknownKeys++;
            return null;
        }
        int n = outputs.merge(key, 1, Integer::sum);
        if (n > 1) {
            duplicates++;
            return null;
        }
        return s;
    }

    public synchronized int inputs() {
        return sent.size();
    }

    /** Inputs with no prediction and no dead letter yet. */
    public synchronized int outstanding() {
        return sent.size() - outputs.size();
    }

    /** Send-to-prediction latencies (ms, sorted) of the inputs whose send time passes {@code sentFilter}. */
    public synchronized double[] predictionLatencies(LongPredicate sentFilter) {
        List<Double> picked = new ArrayList<>();
        for (int i = 0; i < predictionLatencies.size(); i++) {
            if (sentFilter.test(predictionSentNanos.get(i))) {
                picked.add(predictionLatencies.get(i));
            }
        }
        return picked.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    public synchronized FirstSeen firstSeen(String version) {
        return firstSeen.get(version);
    }

    /** The figures so far. */
    public synchronized Tally tally() {
        double[] lat = predictionLatencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double[] dl = deadLetterLatencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int missing = sent.size() - outputs.size();
        return new Tally(sent.size(), badSent, predictions, deadLetters, missing, duplicates, goodToDeadLetters,
                badToPredictions, unknownKeys, olderVersionAfterNewer, sendFailures, lat, dl,
                new LinkedHashMap<>(byVersion), new LinkedHashMap<>(deadLetterReasons));
    }

    /** A snapshot of the ledger; latencies in ms, sorted. */
    public record Tally(int inputs, int badInputs, int predictions, int deadLetters, int missing, int duplicates,
                        int goodToDeadLetters, int badToPredictions, int unknownKeys, int olderVersionAfterNewer,
                        int sendFailures, double[] predictionLatencyMs, double[] deadLetterLatencyMs,
                        Map<String, Integer> predictionsByVersion, Map<String, Integer> deadLettersByClass) {

        /** Every input came back exactly once, as a prediction or a dead letter. */
        public boolean reconciled() {
            return inputs == predictions + deadLetters && missing == 0 && duplicates == 0;
        }

        public double p(double q) {
            return percentile(predictionLatencyMs, q);
        }

        public double max() {
            return predictionLatencyMs.length == 0 ? Double.NaN : predictionLatencyMs[predictionLatencyMs.length - 1];
        }

        @Override
        public String toString() {
            return "Tally[inputs=" + inputs + ", predictions=" + predictions + ", deadLetters=" + deadLetters
                    + ", missing=" + missing + ", duplicates=" + duplicates + ", latencies=" + Arrays.toString(predictionLatencyMs) + "]";
        }
    }

    /** Nearest-rank percentile of sorted values; NaN when empty. */
    public static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.max(0, Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1))];
    }
}
