package dev.petal.trainer.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.ModelSpec;
import dev.petal.common.checkpoint.ModelWeights;
import dev.petal.common.checkpoint.SafeTensors;
import dev.petal.common.checkpoint.TorchvisionWeights;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.ImageDecoder;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.model.ResNet;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import dev.petal.common.training.ModelSession;
import dev.petal.common.training.TrainingSettings;
import dev.petal.trainer.data.DatasetIndex;
import dev.petal.trainer.data.RecordFetcher;
import dev.petal.trainer.data.Sample;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.Properties;
import java.util.Random;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

/**
 * One training run: index petal.train, train epoch by epoch on a seeded shuffle, evaluate the valid
 * split, and after each epoch publish a checkpoint version (files, then manifest, then latest, then
 * an event on petal.models). {@code resume} continues from the latest version step for step.
 */
public final class TrainingJob {
    private static final Logger LOG = Logger.getLogger(TrainingJob.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String OPTIMIZER_FILE = "optimizer.safetensors";
    static final String METRICS_FILE = "metrics.json";
    static final String REPORT_FILE = "report.html";

    /** What a finished run published. */
    public record Result(CheckpointManifest manifest, List<Map<String, Object>> history, boolean resumedNothingToDo) {}

    private final Recipe requested;
    private final Properties kafka;
    private final S3Settings s3;
    private final ImageLimits limits;
    private final Consumer<CheckpointManifest> onPublished;

    public TrainingJob(Recipe recipe, Properties kafka, S3Settings s3, ImageLimits limits, Consumer<CheckpointManifest> onPublished) {
        this.requested = recipe.validated();
        this.kafka = kafka;
        this.s3 = s3;
        this.limits = limits;
        this.onPublished = onPublished == null ? m -> { } : onPublished;
    }

    public Result run() throws IOException {
        Device device = PyTorchEngine.device(requested.device());
        try (ObjectStore store = new ObjectStore(s3);
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps());
             KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps())) {
            store.ensureBucket();
            CheckpointStore checkpoints = new CheckpointStore(store);
            Recipe recipe = requested;
            CheckpointManifest parent = null;
            CheckpointStore.Checkpoint resumeFrom = null;
            if (requested.resume()) {
                Optional<String> latest = checkpoints.latestVersion(requested.modelName());
                if (latest.isPresent()) {
                    parent = checkpoints.manifest(requested.modelName(), latest.get());
                    resumeFrom = checkpoints.fetch(parent);
                    recipe = requested.resumedFrom(parent.recipe()).validated();
                    LOG.infof("resuming %s from version %s (epoch %d, step %d)", recipe.modelName(), parent.version(), parent.epoch(), parent.step());
                    if (parent.epoch() >= recipe.epochs()) {
                        LOG.infof("version %s already finished all %d epochs; nothing to do", parent.version(), recipe.epochs());
                        return new Result(parent, List.of(), true);
                    }
                } else {
                    LOG.infof("--resume: no checkpoint of %s yet; starting a new run", requested.modelName());
                }
            }

            ImageDecoder decoder = new ImageDecoder(limits);
            Map<Integer, Long> endOffsets = parent == null ? null : endOffsets(parent);
            DatasetIndex index = DatasetIndex.scan(consumer, Topics.TRAIN, endOffsets,
                    parent == null ? null : parent.model().labels(), recipe.dataset(), decoder, recipe.cacheMegabytes() << 20);
            if (index.train().isEmpty()) {
                throw new IllegalStateException("no training images on " + Topics.TRAIN
                        + (recipe.dataset() == null ? "" : " for dataset '" + recipe.dataset() + "'") + ": ingest a dataset first");
            }
            if (index.labels().size() < 2) {
                throw new IllegalStateException("need at least 2 labels to train a classifier, found " + index.labels());
            }
            ModelSpec spec = new ModelSpec(recipe.arch(), index.labels(), recipe.imageSize(), recipe.normalize(),
                    recipe.smallStem(), recipe.zeroInitResidual());
            int stepsPerEpoch = (index.train().size() + recipe.batchSize() - 1) / recipe.batchSize();
            TrainingSettings settings = new TrainingSettings(recipe.lr(), recipe.weightDecay(), recipe.warmupIters(),
                    stepsPerEpoch * recipe.epochs(), recipe.seed());
            CheckpointStore.Checkpoint resume = resumeFrom;
            Consumer<ResNet> initial = initialWeights(recipe, resume);
            List<Map<String, Object>> history = resume == null ? new ArrayList<>() : readHistory(resume);
            int startEpoch = parent == null ? 0 : parent.epoch();
            int lastEpoch = recipe.stopAfterEpochs() > 0 ? Math.min(recipe.epochs(), startEpoch + recipe.stopAfterEpochs()) : recipe.epochs();
            CheckpointManifest published = parent;
            try (ModelSession session = new ModelSession(spec.resNetConfig(), recipe.imageSize(), settings, device, initial);
                 BatchLoader loader = new BatchLoader(index, new RecordFetcher(consumer, Topics.TRAIN, store), decoder,
                         spec.preprocessor(), recipe.decodeThreads(), recipe.prefetchBatches())) {
                if (resume != null) {
                    session.optimizer().restore(SafeTensors.read(resume.files().get(OPTIMIZER_FILE)));
                }
                long step = parent == null ? 0 : parent.step();
                for (int epoch = startEpoch; epoch < lastEpoch; epoch++) {
                    Map<String, Object> metrics = trainEpoch(session, loader, index, recipe, epoch, step, stepsPerEpoch * recipe.epochs());
                    step += stepsPerEpoch;
                    Evaluation valid = evaluate(session, loader, index, recipe);
                    metrics.put("validLoss", valid.loss());
                    metrics.put("validAccuracy", valid.accuracy());
                    metrics.put("validImages", valid.count());
                    metrics.put("perClassValidAccuracy", valid.perClassAccuracy());
                    metrics.put("epoch", epoch + 1);
                    history.add(metrics);
                    LOG.infof("epoch %d/%d: train loss %.4f acc %.3f | valid loss %.4f acc %.3f %s", epoch + 1, recipe.epochs(),
                            (Double) metrics.get("trainLoss"), (Double) metrics.get("trainAccuracy"), valid.loss(), valid.accuracy(),
                            valid.perClassAccuracy());
                    if (epoch + 1 == recipe.epochs() || epoch + 1 == lastEpoch) {
                        LOG.info("valid confusion matrix (rows: true, columns: predicted)\n" + valid.confusionTable());
                    }
                    published = checkpoint(checkpoints, producer, session, spec, recipe, index, published, epoch + 1, step, metrics, history);
                }
            }
            return new Result(published, history, false);
        }
    }

    private Map<String, Object> trainEpoch(ModelSession session, BatchLoader loader, DatasetIndex index, Recipe recipe,
                                           int epoch, long stepBefore, long totalSteps) {
        List<Sample> order = new ArrayList<>(index.train());
        Collections.shuffle(order, new Random(recipe.seed() * 31 + epoch));
        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        long started = System.nanoTime();
        long lastLog = started;
        long step = stepBefore;
        Iterator<BatchLoader.Batch> batches = loader.batches(order, recipe.batchSize(), recipe.augment(), recipe.seed(), epoch);
        while (batches.hasNext()) {
            BatchLoader.Batch batch = batches.next();
            step++;
            if (batch.size() == 0) {
                continue;
            }
            ModelSession.StepResult result = session.trainStep(batch.pixels(), batch.labels());
            lossSum += result.loss() * result.size();
            correct += result.correct();
            seen += result.size();
            long now = System.nanoTime();
            if (now - lastLog > 10_000_000_000L || step == stepBefore + 1) {
                double rate = seen / ((now - started) / 1e9);
                long left = totalSteps - step;
                LOG.infof("epoch %d step %d/%d loss %.4f  %.1f images/s  ETA %s", epoch + 1, step, totalSteps, result.loss(),
                        rate, eta(left * recipe.batchSize() / Math.max(rate, 1e-9)));
                lastLog = now;
            }
        }
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("trainLoss", seen == 0 ? Double.NaN : lossSum / seen);
        metrics.put("trainAccuracy", seen == 0 ? Double.NaN : (double) correct / seen);
        metrics.put("trainImages", seen);
        metrics.put("imagesPerSecond", seen / ((System.nanoTime() - started) / 1e9));
        metrics.put("skippedImages", loader.skippedTotal());
        return metrics;
    }

    private static Evaluation evaluate(ModelSession session, BatchLoader loader, DatasetIndex index, Recipe recipe) {
        Evaluation eval = new Evaluation(index.labels());
        Iterator<BatchLoader.Batch> batches = loader.batches(index.valid(), Math.max(recipe.batchSize(), 32), false, recipe.seed(), 0);
        while (batches.hasNext()) {
            BatchLoader.Batch batch = batches.next();
            if (batch.size() > 0) {
                eval.add(session.logits(batch.pixels(), batch.size()), batch.labels(), batch.size());
            }
        }
        return eval;
    }

    private CheckpointManifest checkpoint(CheckpointStore checkpoints, KafkaProducer<String, String> producer, ModelSession session,
                                          ModelSpec spec, Recipe recipe, DatasetIndex index, CheckpointManifest parent,
                                          int epoch, long step, Map<String, Object> metrics, List<Map<String, Object>> history)
            throws IOException {
        String version = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now())
                + String.format("-e%03d", epoch);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(CheckpointManifest.WEIGHTS_FILE, ModelWeights.toBytes(session.net()));
        files.put(OPTIMIZER_FILE, session.optimizer().state().toBytes());
        files.put(METRICS_FILE, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(history));
        files.put(REPORT_FILE, TrainingReport.html(recipe.modelName(), version, history).getBytes(StandardCharsets.UTF_8));
        Map<String, Object> manifestMetrics = new LinkedHashMap<>(metrics);
        CheckpointManifest draft = new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, recipe.modelName(), version,
                parent == null ? null : parent.version(), Instant.now().toString(), spec, recipe.toManifest(), epoch, step,
                manifestMetrics, new CheckpointManifest.DatasetRange(index.topic(), index.offsets()), null, null);
        CheckpointManifest manifest = checkpoints.publish(draft, files);
        String manifestKey = CheckpointStore.versionPrefix(manifest.name(), manifest.version()) + CheckpointManifest.MANIFEST_FILE;
        ObjectNode event = JSON.createObjectNode();
        event.put("key", manifestKey);
        event.set("manifest", JSON.valueToTree(manifest));
        try {
            producer.send(new ProducerRecord<>(Topics.MODELS, manifest.name(), JSON.writeValueAsString(event))).get();
        } catch (Exception e) {
            // The version is published in storage; inference also finds it by polling latest.
            LOG.warnf("checkpoint %s stored, but the petal.models event failed: %s", version, e.getMessage());
        }
        LOG.infof("published %s version %s: s3://%s/%s (report %s)", manifest.name(), version, s3.bucket(), manifestKey,
                "s3://" + s3.bucket() + "/" + CheckpointStore.versionPrefix(manifest.name(), version) + REPORT_FILE);
        onPublished.accept(manifest);
        return manifest;
    }

    private static Consumer<ResNet> initialWeights(Recipe recipe, CheckpointStore.Checkpoint resume) {
        if (resume != null) {
            return net -> ModelWeights.load(net, manager(net), resume.weights());
        }
        if (recipe.initWeights() != null && !recipe.initWeights().isBlank()) {
            return net -> {
                try {
                    SafeTensors weights = SafeTensors.read(Files.readAllBytes(Path.of(recipe.initWeights())));
                    TorchvisionWeights.LoadResult result = TorchvisionWeights.load(net, weights, true);
                    LOG.infof("--init-weights %s: %d tensors loaded%s", recipe.initWeights(), result.loaded(),
                            result.headReplaced() ? ", head replaced (new label count)" : "");
                } catch (IOException e) {
                    throw new IllegalArgumentException("--init-weights " + recipe.initWeights() + ": " + e.getMessage(), e);
                }
            };
        }
        return null;
    }

    private static NDManager manager(ResNet net) {
        return net.getParameters().get(0).getValue().getArray().getManager();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> readHistory(CheckpointStore.Checkpoint checkpoint) throws IOException {
        byte[] bytes = checkpoint.files().get(METRICS_FILE);
        return bytes == null ? new ArrayList<>() : new ArrayList<>(JSON.readValue(bytes, List.class));
    }

    private static Map<Integer, Long> endOffsets(CheckpointManifest parent) {
        Map<Integer, Long> end = new LinkedHashMap<>();
        parent.dataset().offsets().forEach((partition, range) -> end.put(partition, range.get(1)));
        return end;
    }

    private Properties consumerProps() {
        Properties props = new Properties();
        props.putAll(kafka);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "200");
        return props;
    }

    private Properties producerProps() {
        Properties props = new Properties();
        props.putAll(kafka);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "1048576");
        return props;
    }

    static String eta(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s % 3600 / 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
