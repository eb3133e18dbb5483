package dev.petal.trainer.job;

import ai.djl.Device;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.inference.Classifier;
import dev.petal.common.inference.LoadedModel;
import dev.petal.common.inference.ModelSource;
import dev.petal.common.inference.Prediction;
import dev.petal.common.model.Precision;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.GateRecord;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.records.UntrustedText;
import dev.petal.trainer.data.DatasetIndex;
import java.time.Instant;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * The promotion gate (docs/model-lifecycle.md). Before a run trains, the current champion is scored on the run's valid
 * split, with its own spec (image size, normalisation, labels); every version of the run records that figure beside its
 * own valid accuracy in its manifest ({@code metrics.gate}). When the run ends, its best epoch is promoted to
 * {@code champion} when it is at least as good as the champion by {@code promoteMargin} accuracy points (and
 * auto-promote is on), or becomes {@code challenger}; the very first version of a model becomes champion. A champion
 * whose label set differs from the run's is not compared: the best epoch becomes challenger and needs a manual promote.
 */
public final class PromotionGate {
    private static final Logger LOG = Logger.getLogger(PromotionGate.class);

    /** {@code petal.registry.promote-margin} (accuracy points, default 0) and {@code petal.registry.auto-promote} (default true). */
    public record Settings(double promoteMarginPoints, boolean autoPromote) {
        public static final Settings DEFAULT = new Settings(0.0, true);
    }

    /** The champion as scored on the run's valid split: accuracy null when not comparable ({@code why} says why). */
    record ChampionScore(String version, Double accuracy, int images, String why) {
        static final ChampionScore NONE = new ChampionScore(null, null, 0, "no champion yet");

        boolean comparable() {
            return version != null && accuracy != null;
        }

        Map<String, Object> toManifest(double candidate) {
            Map<String, Object> gate = new LinkedHashMap<>();
            gate.put("candidateAccuracy", candidate);
            if (version != null) {
                gate.put("championVersion", version);
            }
            if (accuracy != null) {
                gate.put("championAccuracy", accuracy);
            }
            if (!comparable()) {
                gate.put("note", why);
            }
            gate.put("heldOutImages", images);
            return gate;
        }
    }

    /** One end-of-epoch version the run published. */
    record Candidate(String version, int epoch, double accuracy) {}

    /** What the gate did at the end of a run. */
    public record Outcome(String version, String alias, String decision, String reason, Double candidateAccuracy,
                          Double championAccuracy, String championVersion) {}

    private PromotionGate() {}

    /**
     * Scores the champion of {@code name} on the valid split of {@code index}; {@link ChampionScore#NONE} when there is
     * none. {@code loaders} opens a batch loader; the champion's batches get its own preprocessing.
     */
    static ChampionScore scoreChampion(ModelRegistry registry, CheckpointStore checkpoints, String name, DatasetIndex index,
                                       Supplier<BatchLoader> loaders, Device device) {
        String champion;
        try {
            champion = registry.resolve(name, ModelRegistry.CHAMPION).orElse(null);
        } catch (RuntimeException e) {
            return new ChampionScore(null, null, 0, "the champion alias is unreadable: " + e.getMessage());
        }
        if (champion == null) {
            return ChampionScore.NONE;
        }
        if (index.valid().isEmpty()) {
            return new ChampionScore(champion, null, 0, "the run has no valid split to compare on");
        }
        List<String> labels = index.labels();
        try (LoadedModel loaded = ModelSource.fromStore(checkpoints, name, champion)) {
            List<String> theirs = loaded.spec().labels();
            if (!new HashSet<>(theirs).equals(new HashSet<>(labels))) {
                return new ChampionScore(champion, null, 0, "the champion " + champion + " has labels "
                        + UntrustedText.forLog(theirs) + ", this run " + UntrustedText.forLog(labels) + ": no comparison; promote by hand");
            }
            long start = System.nanoTime();
            int right = 0;
            int seen = 0;
            try (Classifier classifier = Classifier.load(loaded, device, Precision.FP32);
                 BatchLoader loader = loaders.get()) {
                Iterator<BatchLoader.Batch> batches = loader.batches(index.valid(), loaded.spec().preprocessor(), 32, null, 0, 0);
                while (batches.hasNext()) {
                    BatchLoader.Batch batch = batches.next();
                    if (batch.size() == 0) {
                        continue;
                    }
                    List<List<Prediction.Scored>> top = classifier.topK(batch.pixels(), batch.size(), 1);
                    for (int i = 0; i < batch.size(); i++) {
                        if (top.get(i).get(0).label().equals(labels.get(batch.labels()[i]))) {
                            right++;
                        }
                        seen++;
                    }
                }
            }
            double accuracy = seen == 0 ? Double.NaN : (double) right / seen;
            LOG.infof("gate: champion %s/%s scores %.2f%% on this run's %d held-out images (%d ms)", name, champion, 100 * accuracy,
                    seen, (System.nanoTime() - start) / 1_000_000);
            return seen == 0 ? new ChampionScore(champion, null, 0, "no held-out image could be read")
                    : new ChampionScore(champion, accuracy, seen, null);
        } catch (RuntimeException e) {
            LOG.warnf("gate: cannot score the champion %s/%s (%s): promote by hand", name, champion, e.getMessage());
            return new ChampionScore(champion, null, 0, "the champion " + champion + " could not be scored: "
                    + UntrustedText.oneLine(e.getMessage(), 200));
        }
    }

    /**
     * Decides about the run's best end-of-epoch version and moves {@code champion} or {@code challenger} to it; records a
     * {@link GateRecord} for every version of the run (the others: kept out, not the best epoch).
     */
    static Outcome decide(ModelRegistry registry, String name, List<Candidate> published, List<String> unvalidated, ChampionScore champion,
                          Settings settings) {
        Candidate best = null;
        for (Candidate c : published) {
            if (best == null || !(c.accuracy() < best.accuracy()) && !Double.isNaN(c.accuracy())) {
                best = c; // the highest accuracy; on a tie the later epoch
            }
        }
        if (best == null) {
            return null;
        }
        String now = Instant.now().toString();
        String alias;
        String decision;
        String reason;
        if (champion.version() == null && champion.why() != null && champion.why().startsWith("the champion alias")) {
            alias = ModelRegistry.CHALLENGER;
            decision = GateRecord.MANUAL;
            reason = champion.why();
        } else if (champion.version() == null) {
            alias = ModelRegistry.CHAMPION;
            decision = GateRecord.PROMOTED;
            reason = String.format("the first version of %s (valid accuracy %.2f%%)", name, 100 * best.accuracy());
        } else if (!champion.comparable()) {
            alias = ModelRegistry.CHALLENGER;
            decision = GateRecord.MANUAL;
            reason = champion.why();
        } else {
            double diffPoints = 100 * (best.accuracy() - champion.accuracy());
            boolean better = diffPoints >= settings.promoteMarginPoints() - 1e-9;
            String figures = String.format("%.2f%% against champion %s's %.2f%% on the same %d held-out images (%+.2f points, margin %.2f)",
                    100 * best.accuracy(), champion.version(), 100 * champion.accuracy(), champion.images(), diffPoints,
                    settings.promoteMarginPoints());
            if (better && settings.autoPromote()) {
                alias = ModelRegistry.CHAMPION;
                decision = GateRecord.PROMOTED;
                reason = figures;
            } else if (better) {
                alias = ModelRegistry.CHALLENGER;
                decision = GateRecord.MANUAL;
                reason = figures + "; petal.registry.auto-promote is off";
            } else {
                alias = ModelRegistry.CHALLENGER;
                decision = GateRecord.KEPT_OUT;
                reason = "worse: " + figures;
            }
        }
        for (Candidate c : published) {
            if (c != best) {
                registry.recordGate(name, c.version(), new GateRecord(c.accuracy(), champion.accuracy(), champion.version(),
                        GateRecord.KEPT_OUT, "not the run's best epoch (" + best.version() + ", epoch " + best.epoch() + ")", now));
            }
        }
        for (String version : unvalidated) {
            registry.recordGate(name, version, new GateRecord(null, champion.accuracy(), champion.version(), GateRecord.KEPT_OUT,
                    "not validated (a mid-epoch checkpoint, or an epoch before --validate-from-epoch): only the run's best validated"
                            + " epoch can be promoted", now));
        }
        registry.recordGate(name, best.version(), new GateRecord(best.accuracy(), champion.accuracy(), champion.version(), decision,
                reason, now));
        registry.move(name, alias, best.version(), AliasMove.PROMOTE, "gate: " + reason, "trainer", true, null);
        if (GateRecord.PROMOTED.equals(decision)) {
            LOG.infof("gate: %s/%s (epoch %d) is the new champion: %s", name, best.version(), best.epoch(), reason);
        } else {
            LOG.warnf("gate: %s/%s (epoch %d) is not promoted, it is the challenger (%s): %s", name, best.version(), best.epoch(),
                    decision, reason);
        }
        return new Outcome(best.version(), alias, decision, reason, best.accuracy(), champion.accuracy(), champion.version());
    }
}
