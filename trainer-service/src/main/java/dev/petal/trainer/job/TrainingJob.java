package dev.petal.trainer.job;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.ManifestSigner;
import dev.petal.common.checkpoint.SafeTensors;
import dev.petal.common.checkpoint.WeightsFile;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.ImageDecoder;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.model.ModelParameters;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.ActivationRanges;
import dev.petal.common.model.Int8Calibration;
import dev.petal.common.model.ServingProgram;
import dev.petal.common.records.ModelEvent;
import dev.petal.common.records.Topics;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.ModelRegistry;
import org.apache.kafka.clients.producer.ProducerRecord;
import dev.petal.common.records.UntrustedText;
import dev.petal.common.report.StepCurve;
import dev.petal.common.report.TrainingReport;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import dev.petal.common.training.ModelSession;
import dev.petal.common.training.TrainingSettings;
import dev.petal.common.training.WarmupCosineSchedule;
import dev.petal.common.records.KafkaClients;
import dev.petal.trainer.data.DatasetIndex;
import dev.petal.trainer.data.DeadLetters;
import dev.petal.trainer.data.RecordFetcher;
import dev.petal.trainer.data.Sample;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jboss.logging.Logger;

/**
 * One training run: index petal.train (dead-lettering what no run can use), train epoch by epoch on a
 * seeded shuffle, evaluate the valid split, and publish a checkpoint version after each epoch and,
 * with a checkpoint interval, in the middle of long epochs. Uploads run in the background with
 * retries ({@link CheckpointPublisher}). {@code resume} continues from the latest version step for
 * step, mid-epoch included; {@code warmStart} starts a new run from its weights.
 */
public final class TrainingJob {
    private static final Logger LOG = Logger.getLogger(TrainingJob.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String OPTIMIZER_FILE = "optimizer.safetensors";
    static final String METRICS_FILE = "metrics.json";
    static final String REPORT_FILE = "report.html";
    /** Per-step training loss and learning rate ({@link StepCurve}), which a resumed run continues. */
    static final String STEPS_FILE = "steps.json";
    /** The most labels a dataset may have unless configured ({@code petal.trainer.max-labels}). */
    public static final int DEFAULT_MAX_LABELS = 1000;
    /** Manifest metrics key of a mid-epoch checkpoint: where in its epoch it stopped. */
    static final String EPOCH_PROGRESS = "epochProgress";

    /** What a finished run published, and what the promotion gate made of it (null: nothing to decide). */
    public record Result(CheckpointManifest manifest, List<Map<String, Object>> history, boolean resumedNothingToDo,
                         PromotionGate.Outcome gate) {
        public Result(CheckpointManifest manifest, List<Map<String, Object>> history, boolean resumedNothingToDo) {
            this(manifest, history, resumedNothingToDo, null);
        }
    }

    private final Recipe requested;
    private final KafkaClients kafka;
    private final S3Settings s3;
    private final ImageLimits limits;
    private final TrainingListener listener;
    private Duration uploadGiveUpAfter = Duration.ofMinutes(30);
    private ManifestSigner signer;
    private int maxLabels = DEFAULT_MAX_LABELS;
    private PromotionGate.Settings gateSettings = PromotionGate.Settings.DEFAULT;

    public TrainingJob(Recipe recipe, KafkaClients kafka, S3Settings s3, ImageLimits limits, TrainingListener listener) {
        this.requested = recipe.validated();
        this.kafka = kafka;
        this.s3 = s3;
        this.limits = limits;
        this.listener = listener == null ? TrainingListener.NONE : listener;
    }

    /** How long one checkpoint's upload is retried before the run fails (default 30 minutes). */
    public TrainingJob uploadGiveUpAfter(Duration limit) {
        this.uploadGiveUpAfter = limit;
        return this;
    }

    /** The most labels a dataset may have ({@code petal.trainer.max-labels}; default {@value #DEFAULT_MAX_LABELS}). */
    public TrainingJob maxLabels(int max) {
        if (max < 2) {
            throw new IllegalArgumentException("petal.trainer.max-labels must be at least 2, was " + max);
        }
        this.maxLabels = max;
        return this;
    }

    /** The promotion gate's margin and whether it promotes ({@code petal.registry.*}). */
    public TrainingJob gate(PromotionGate.Settings settings) {
        this.gateSettings = settings;
        return this;
    }

    /** Signs every manifest this run publishes (null: unsigned). */
    public TrainingJob signedWith(ManifestSigner manifestSigner) {
        this.signer = manifestSigner;
        return this;
    }

    public Result run() throws IOException, InterruptedException {
        Device device = PyTorchEngine.device(requested.device());
        // petal.train is read by offset, epoch after epoch, the images that do not fit the cache read back batch by
        // batch (RecordFetcher): random access, which a plain KafkaConsumer gives and a streaming channel does not.
        try (ObjectStore store = new ObjectStore(s3);
             KafkaConsumer<byte[], byte[]> consumer = kafka.reader(Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 200));
             KafkaProducer<byte[], byte[]> producer = kafka.producer(Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1048576),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            store.ensureBucket();
            CheckpointStore checkpoints = new CheckpointStore(store, signer);
            Recipe recipe = requested;
            CheckpointStore.Checkpoint from = null; // the version resumed, or warm-started from
            if (requested.resume() || requested.warmStart()) {
                Optional<String> latest = checkpoints.latestVersion(requested.modelName());
                if (latest.isPresent()) {
                    from = checkpoints.fetch(checkpoints.manifest(requested.modelName(), latest.get()));
                } else {
                    LOG.infof("%s: no checkpoint of %s yet; starting a new run", requested.resume() ? "--resume" : "--warm-start",
                            requested.modelName());
                }
            }
            CheckpointManifest parent = from == null ? null : from.manifest();
            boolean resuming = parent != null && requested.resume();
            EpochProgress progress = resuming ? EpochProgress.from(parent.metrics()) : null;
            if (resuming) {
                recipe = requested.resumedFrom(parent.recipe()).validated();
                LOG.infof("resuming %s from version %s (epoch %d, step %d)", recipe.modelName(), parent.version(), parent.epoch(), parent.step());
                if (parent.epoch() >= recipe.epochs() && progress == null) {
                    LOG.infof("version %s already finished all %d epochs; nothing to do", parent.version(), recipe.epochs());
                    return new Result(parent, List.of(), true);
                }
            } else if (parent != null) {
                LOG.infof("warm start of %s from version %s, on the data as it stands now", recipe.modelName(), parent.version());
            }

            ImageDecoder decoder = new ImageDecoder(limits);
            DatasetIndex index;
            try (DeadLetters deadLetters = DeadLetters.open(kafka, producer, Topics.TRAIN)) {
                index = DatasetIndex.scan(consumer, Topics.TRAIN, resuming ? endOffsets(parent) : null,
                        resuming ? parent.model().labels() : null, recipe.dataset(), decoder, recipe.cacheMegabytes() << 20,
                        maxLabels, deadLetters::offer);
                listener.onDeadLettered(deadLetters.finish(index.offsets(), index.badCounts()));
            }
            if (index.train().isEmpty()) {
                throw new IllegalStateException("no training images on " + Topics.TRAIN
                        + (recipe.dataset() == null ? "" : " for dataset '" + recipe.dataset() + "'") + ": ingest a dataset first");
            }
            if (index.labels().size() < 2) {
                throw new IllegalStateException("need at least 2 labels to train a classifier, found "
                        + UntrustedText.forLog(index.labels()));
            }
            ModelSpec spec = recipe.network().withLabels(index.labels());
            // The gate: the champion scored on this run's held-out images, with its own preprocessing, before training.
            ModelRegistry registry = new ModelRegistry(store, move -> announceAlias(producer, move));
            Recipe gateRecipe = recipe;
            PromotionGate.ChampionScore champion = PromotionGate.scoreChampion(registry, checkpoints, recipe.modelName(), index,
                    () -> new BatchLoader(index, new RecordFetcher(consumer, Topics.TRAIN, store, limits.maxBytes()), decoder,
                            gateRecipe.decodeThreads(), 0, 0), device);
            int stepsPerEpoch = (index.train().size() + recipe.batchSize() - 1) / recipe.batchSize();
            long totalSteps = (long) stepsPerEpoch * recipe.epochs();
            TrainingSettings settings = new TrainingSettings(recipe.lr(), recipe.weightDecay(), recipe.warmupSteps(totalSteps),
                    Math.toIntExact(totalSteps), recipe.seed(), recipe.labelSmoothing(), recipe.zeroInitResidual(), recipe.warmupStartFactor());
            Consumer<ModelParameters> initial = initialWeights(recipe, from, index.labels(), store);
            List<Map<String, Object>> history = resuming ? readHistory(from) : new ArrayList<>();
            int startEpoch = resuming ? parent.epoch() : 0;
            int lastEpoch = recipe.stopAfterEpochs() > 0 ? Math.min(recipe.epochs(), startEpoch + recipe.stopAfterEpochs()) : recipe.epochs();
            Run run = new Run(recipe, spec, index, history, resuming ? readSteps(from) : new StepCurve(), settings.schedule(),
                    stepsPerEpoch, totalSteps);
            try (ModelSession session = new ModelSession(spec, settings, device, initial, recipe.precision(), recipe.trainingImageSize());
                 BatchLoader loader = new BatchLoader(index, new RecordFetcher(consumer, Topics.TRAIN, store, limits.maxBytes()), decoder,
                         recipe.decodeThreads(), recipe.prefetchBatchesOn(device),
                         Math.max(0, (recipe.cacheMegabytes() << 20) - index.cachedBytes()));
                 CheckpointPublisher publisher = new CheckpointPublisher(checkpoints, producer, s3.bucket(), parent, listener,
                         Duration.ofSeconds(1), Duration.ofSeconds(30), uploadGiveUpAfter)) {
                LOG.infof("training %s %s at %d px%s%s on %s in %s, batch %d, %d steps", recipe.modelName(), recipe.arch(),
                        recipe.trainingImageSize(), recipe.trainingImageSize() == recipe.imageSize() ? ""
                                : " (validated and served at " + recipe.imageSize() + " px)",
                        recipe.earlyImageSize() > 0 && recipe.earlyEpochs() > 0
                                ? ", the first " + recipe.earlyEpochs() + " epochs at " + recipe.earlyImageSize() + " px" : "",
                        device, session.precision().id(), recipe.batchSize(), totalSteps);
                PyTorchEngine.precisionCaveat(session.precision(), device)
                        .ifPresent(why -> LOG.warnf("training in %s, but %s", session.precision().id(), why));
                if (resuming) {
                    session.optimizer().restore(SafeTensors.read(from.files().get(OPTIMIZER_FILE)));
                }
                long step = resuming ? parent.step() : 0;
                for (int epoch = startEpoch; epoch < lastEpoch; epoch++) {
                    EpochProgress epochStart = progress != null && progress.epoch() == epoch + 1 ? progress : new EpochProgress(epoch + 1);
                    Map<String, Object> metrics = trainEpoch(session, loader, publisher, run, epochStart, step);
                    step = (long) (epoch + 1) * stepsPerEpoch;
                    boolean last = epoch + 1 == recipe.epochs() || epoch + 1 == lastEpoch;
                    Evaluation valid = epoch + 1 >= recipe.validateFromEpoch() || last ? evaluate(session, loader, run) : null;
                    if (valid != null) {
                        metrics.put("validLoss", valid.loss());
                        metrics.put("validAccuracy", valid.accuracy());
                        metrics.put("validImages", valid.count());
                        metrics.put("perClassValidAccuracy", valid.perClassAccuracy());
                    }
                    metrics.put("epoch", epoch + 1);
                    history.add(metrics);
                    Map<String, Object> withGate = new LinkedHashMap<>(metrics);
                    if (valid == null) {
                        LOG.infof("epoch %d/%d: train loss %.4f acc %.3f | validation from epoch %d", epoch + 1, recipe.epochs(),
                                (Double) metrics.get("trainLoss"), (Double) metrics.get("trainAccuracy"), recipe.validateFromEpoch());
                    } else {
                        withGate.put("gate", champion.toManifest(valid.accuracy()));
                        LOG.infof("epoch %d/%d: train loss %.4f acc %.3f | valid loss %.4f acc %.3f %s", epoch + 1, recipe.epochs(),
                                (Double) metrics.get("trainLoss"), (Double) metrics.get("trainAccuracy"), valid.loss(), valid.accuracy(),
                                valid.perClassAccuracy());
                        if (last) {
                            LOG.info("valid confusion matrix (rows: true, columns: predicted)\n" + valid.confusionTable());
                        }
                    }
                    listener.onEpoch(epoch + 1, (Double) metrics.get("trainLoss"), valid == null ? Double.NaN : valid.accuracy());
                    checkpoint(publisher, session, run, epoch + 1, step, withGate, null, valid == null ? null : valid.forReport(epoch + 1),
                            valid == null ? null : valid.activationRanges());
                }
                CheckpointManifest published = publisher.awaitAll();
                return new Result(published, history, false, gate(registry, recipe.modelName(), publisher.published(), champion));
            }
        }
    }

    /** The gate's decision on this run's versions: its best epoch promoted or made challenger. */
    private PromotionGate.Outcome gate(ModelRegistry registry, String name, List<CheckpointManifest> published,
                                       PromotionGate.ChampionScore champion) {
        List<PromotionGate.Candidate> epochs = new ArrayList<>();
        List<String> unvalidated = new ArrayList<>();
        for (CheckpointManifest m : published) {
            Object accuracy = m.metrics() == null ? null : m.metrics().get("validAccuracy");
            if (m.metrics() != null && m.metrics().containsKey(EPOCH_PROGRESS) || !(accuracy instanceof Number)) {
                unvalidated.add(m.version());
            } else {
                epochs.add(new PromotionGate.Candidate(m.version(), m.epoch(), ((Number) accuracy).doubleValue()));
            }
        }
        return PromotionGate.decide(registry, name, epochs, unvalidated, champion, gateSettings);
    }

    /** An alias move on petal.models, through the run's producer. */
    private static void announceAlias(KafkaProducer<byte[], byte[]> producer, AliasMove move) {
        try {
            producer.send(new ProducerRecord<>(Topics.MODELS, ModelEvent.aliasKey(move), ModelEvent.aliasValue(move)))
                    .get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            // The move is stored; inference also finds it by polling the alias.
            LOG.warnf("alias %s of %s moved to %s, but the petal.models event failed: %s", move.alias(), move.name(), move.to(),
                    e.getMessage());
        }
    }

    /** What stays fixed for the whole run, and its growing history (per epoch, and per step for the report). */
    private record Run(Recipe recipe, ModelSpec spec, DatasetIndex index, List<Map<String, Object>> history, StepCurve steps,
                       WarmupCosineSchedule schedule, int stepsPerEpoch, long totalSteps) {}

    /**
     * Where an epoch stands: steps done and the running sums of its train metrics. Stored in a
     * mid-epoch checkpoint's manifest, so a resume continues the epoch and reports the same metrics.
     */
    record EpochProgress(int epoch, int stepsDone, double lossSum, long correct, long seen) {
        EpochProgress(int epoch) {
            this(epoch, 0, 0, 0, 0);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", epoch);
            m.put("stepsDone", stepsDone);
            m.put("lossSum", lossSum);
            m.put("correct", correct);
            m.put("seen", seen);
            return m;
        }

        static EpochProgress from(Map<String, Object> metrics) {
            if (metrics == null || !(metrics.get(EPOCH_PROGRESS) instanceof Map<?, ?> m)) {
                return null;
            }
            return new EpochProgress(((Number) m.get("epoch")).intValue(), ((Number) m.get("stepsDone")).intValue(),
                    ((Number) m.get("lossSum")).doubleValue(), ((Number) m.get("correct")).longValue(),
                    ((Number) m.get("seen")).longValue());
        }
    }

    /**
     * Steps left out of {@code steadyImagesPerSecond}, as {@code ./petal bench} leaves out its warm-up:
     * the first steps build libtorch's kernels and allocations (the first takes seconds).
     */
    private static final int WARM_UP_STEPS = 3;

    private Map<String, Object> trainEpoch(ModelSession session, BatchLoader loader, CheckpointPublisher publisher, Run run,
                                           EpochProgress from, long stepBefore) throws IOException {
        Recipe recipe = run.recipe();
        int epoch = from.epoch() - 1;
        List<Sample> order = new ArrayList<>(run.index().train());
        Collections.shuffle(order, new Random(recipe.seed() * 31 + epoch));
        double lossSum = from.lossSum();
        long correct = from.correct();
        long seen = from.seen();
        long seenHere = 0;
        int stepsHere = 0;
        long started = System.nanoTime();
        long steadyFrom = 0;
        long seenBeforeSteady = 0;
        long lastLog = started;
        long lastCheckpoint = started;
        long step = (long) epoch * run.stepsPerEpoch() + from.stepsDone();
        if (from.stepsDone() > 0) {
            LOG.infof("epoch %d: continuing after step %d of %d", epoch + 1, from.stepsDone(), run.stepsPerEpoch());
        }
        List<Sample> rest = order.subList(Math.min(order.size(), from.stepsDone() * recipe.batchSize()), order.size());
        int size = recipe.trainingImageSize(epoch + 1);
        Preprocessor preprocessor = run.spec().withImageSize(size).preprocessor();
        Iterator<BatchLoader.Batch> batches = loader.batches(rest, preprocessor, recipe.batchSize(),
                recipe.augment() ? new Augmenter(recipe.minCropScale(), recipe.colourJitter()) : null, recipe.seed(), epoch);
        long stepNanos = 0;
        while (batches.hasNext()) {
            BatchLoader.Batch batch = batches.next();
            step++;
            if (batch.size() == 0) {
                continue;
            }
            long stepStarted = System.nanoTime();
            ModelSession.StepResult result = session.trainStep(batch.pixels(), batch.labels(), size);
            stepNanos += System.nanoTime() - stepStarted;
            // The optimizer's step count is the schedule's position: the rate this step used.
            double learningRate = run.schedule().getNewValue(session.optimizer().step());
            run.steps().add(step, result.loss(), learningRate);
            lossSum += result.loss() * result.size();
            correct += result.correct();
            seen += result.size();
            seenHere += result.size();
            long now = System.nanoTime();
            if (++stepsHere == WARM_UP_STEPS) {
                steadyFrom = now;
                seenBeforeSteady = seenHere;
            }
            double rate = seenHere / ((now - started) / 1e9);
            listener.onStep(epoch + 1, step, run.totalSteps(), result.loss(), learningRate, rate);
            if (now - lastLog > 10_000_000_000L || step == stepBefore + 1) {
                long left = run.totalSteps() - step;
                LOG.infof("epoch %d step %d/%d loss %.4f  %.1f images/s  ETA %s", epoch + 1, step, run.totalSteps(), result.loss(),
                        rate, eta(left * recipe.batchSize() / Math.max(rate, 1e-9)));
                lastLog = now;
            }
            int stepsDone = (int) (step - (long) epoch * run.stepsPerEpoch());
            if (recipe.checkpointIntervalSeconds() > 0 && stepsDone < run.stepsPerEpoch()
                    && now - lastCheckpoint >= recipe.checkpointIntervalSeconds() * 1_000_000_000L) {
                Map<String, Object> partial = new LinkedHashMap<>();
                partial.put("trainLoss", lossSum / seen);
                partial.put("trainAccuracy", (double) correct / seen);
                partial.put(EPOCH_PROGRESS, new EpochProgress(epoch + 1, stepsDone, lossSum, correct, seen).toMap());
                checkpoint(publisher, session, run, epoch, step, partial, epoch + 1, null, null);
                lastCheckpoint = System.nanoTime();
            }
        }
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("trainLoss", seen == 0 ? Double.NaN : lossSum / seen);
        metrics.put("trainAccuracy", seen == 0 ? Double.NaN : (double) correct / seen);
        metrics.put("trainImages", seen);
        metrics.put("trainImageSize", size);
        long ended = System.nanoTime();
        metrics.put("imagesPerSecond", seenHere / ((ended - started) / 1e9));
        if (stepsHere > WARM_UP_STEPS) {
            metrics.put("steadyImagesPerSecond", (seenHere - seenBeforeSteady) / ((ended - steadyFrom) / 1e9));
        }
        metrics.put("skippedImages", loader.skippedTotal());
        // Where the epoch's time went: the model's steps, and the rest (batches, checkpoints, logging).
        metrics.put("stepSeconds", stepNanos / 1e9);
        metrics.put("epochSeconds", (ended - started) / 1e9);
        return metrics;
    }

    private static Evaluation evaluate(ModelSession session, BatchLoader loader, Run run) {
        DatasetIndex index = run.index();
        Recipe recipe = run.recipe();
        if (recipe.recalibrationImages() > 0) {
            recalibrate(session, loader, run);
        }
        Evaluation eval = new Evaluation(index.labels(),
                new MisclassifiedImages(MisclassifiedImages.DEFAULT_LIMIT, run.spec().preprocessor(), index.labels(), recipe.seed()));
        Iterator<BatchLoader.Batch> batches = loader.batches(index.valid(), run.spec().preprocessor(), Math.max(recipe.batchSize(), 32), null, recipe.seed(), 0);
        // Scored by the serving program (BatchNorms folded, evaluation mode): what inference will serve. The same
        // batches calibrate int8 serving, up to Int8Calibration.IMAGES of them.
        long calibrating = 0;
        try (ServingProgram program = session.evaluation();
             Int8Calibration calibration = session.int8Calibration()) {
            while (batches.hasNext()) {
                BatchLoader.Batch batch = batches.next();
                if (batch.size() > 0) {
                    eval.add(session.logits(program, batch.pixels(), batch.size()), batch.labels(), batch.size(), batch.pixels());
                    if (calibration.images() < Int8Calibration.IMAGES) {
                        long start = System.nanoTime();
                        calibration.add(batch.pixels(), (int) Math.min(batch.size(), Int8Calibration.IMAGES - calibration.images()));
                        calibrating += System.nanoTime() - start;
                    }
                }
            }
            if (calibration.images() > 0) {
                eval.activationRanges(calibration.ranges());
                LOG.infof("int8 calibration from %d held-out images in %.1f s", calibration.images(), calibrating / 1e9);
            }
        }
        return eval;
    }

    /**
     * The BatchNorm statistics at the serving size ({@link Recipe#recalibrationImages}), from the same training images each
     * time: the first ones in an order shuffled by the seed, preprocessed as served (no augmentation).
     */
    private static void recalibrate(ModelSession session, BatchLoader loader, Run run) {
        Recipe recipe = run.recipe();
        List<Sample> order = new ArrayList<>(run.index().train());
        Collections.shuffle(order, new Random(recipe.seed()));
        List<Sample> chosen = order.subList(0, Math.min(order.size(), recipe.recalibrationImages()));
        long started = System.nanoTime();
        ModelSession.Recalibration pass = session.recalibration();
        Iterator<BatchLoader.Batch> batches = loader.batches(chosen, run.spec().preprocessor(), recipe.batchSize(), null, recipe.seed(), 0);
        while (batches.hasNext()) {
            BatchLoader.Batch batch = batches.next();
            pass.add(batch.pixels(), batch.size());
        }
        LOG.infof("BatchNorm statistics re-estimated at %d px from %d training images in %.1f s", run.spec().imageSize(), pass.images(),
                (System.nanoTime() - started) / 1e9);
    }

    /**
     * Snapshots the run now and hands it to the publisher. {@code epoch} counts finished epochs;
     * {@code inEpoch} is the epoch in progress for a mid-epoch checkpoint, else null; {@code validation}
     * is the epoch's evaluation for the report and {@code ranges} its int8 calibration (both null mid-epoch).
     */
    private void checkpoint(CheckpointPublisher publisher, ModelSession session, Run run, int epoch, long step,
                            Map<String, Object> metrics, Integer inEpoch, TrainingReport.Validation validation,
                            ActivationRanges ranges) throws IOException {
        Recipe recipe = run.recipe();
        String version = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now())
                + (inEpoch == null ? String.format("-e%03d", epoch) : String.format("-e%03d-s%06d", inEpoch, step));
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(CheckpointManifest.WEIGHTS_FILE, WeightsFile.toBytes(session.parameters()));
        files.put(OPTIMIZER_FILE, session.optimizer().state().toBytes());
        files.put(METRICS_FILE, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(run.history()));
        files.put(STEPS_FILE, run.steps().toJson());
        files.put(REPORT_FILE, TrainingReport.html(recipe.modelName(), version, run.history(), run.steps(), validation)
                .getBytes(StandardCharsets.UTF_8));
        CheckpointManifest draft = new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, recipe.modelName(), version,
                null, Instant.now().toString(), run.spec(), recipe.toManifest(), epoch, step, new LinkedHashMap<>(metrics),
                new CheckpointManifest.DatasetRange(run.index().topic(), run.index().offsets()), null, null, ranges);
        if (inEpoch != null) {
            LOG.infof("mid-epoch checkpoint %s at step %d", version, step);
        }
        publisher.submit(draft, files);
    }

    /** Weights to start from: a checkpoint (resume or warm start), torchvision weights ({@link InitialWeights}), or none. */
    private static Consumer<ModelParameters> initialWeights(Recipe recipe, CheckpointStore.Checkpoint from, List<String> labels,
                                                            ObjectStore store) {
        if (from != null) {
            ModelSpec previous = from.manifest().model();
            boolean sameLabels = previous.labels().equals(labels);
            return params -> {
                // Read with the checkpoint's own plan; a head for other labels keeps its fresh initialisation.
                try (ModelParameters saved = WeightsFile.read(previous.plan(), params.manager(), new ByteArrayInputStream(from.weights()))) {
                    params.copyFrom(saved, !sameLabels);
                }
                if (!sameLabels) {
                    LOG.infof("labels changed from %s to %s: every weight but the head starts from version %s",
                            UntrustedText.forLog(previous.labels()), UntrustedText.forLog(labels), from.manifest().version());
                }
            };
        }
        if (recipe.initWeights() != null && !recipe.initWeights().isBlank()) {
            return params -> InitialWeights.load(recipe.initWeights(), params, store);
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> readHistory(CheckpointStore.Checkpoint checkpoint) throws IOException {
        byte[] bytes = checkpoint.files().get(METRICS_FILE);
        return bytes == null ? new ArrayList<>() : new ArrayList<>(JSON.readValue(bytes, List.class));
    }

    private static StepCurve readSteps(CheckpointStore.Checkpoint checkpoint) throws IOException {
        byte[] bytes = checkpoint.files().get(STEPS_FILE);
        return bytes == null ? new StepCurve() : StepCurve.fromJson(bytes);
    }

    private static Map<Integer, Long> endOffsets(CheckpointManifest parent) {
        Map<Integer, Long> end = new LinkedHashMap<>();
        parent.dataset().offsets().forEach((partition, range) -> end.put(partition, range.get(1)));
        return end;
    }

    static String eta(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s % 3600 / 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
