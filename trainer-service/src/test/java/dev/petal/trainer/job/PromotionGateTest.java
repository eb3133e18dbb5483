package dev.petal.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.image.Normalization;
import dev.petal.common.inference.Classifier;
import dev.petal.common.inference.LoadedModel;
import dev.petal.common.inference.ModelSource;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.NetworkSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.Stem;
import dev.petal.common.records.Headers;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.ModelEvent;
import dev.petal.common.records.Topics;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.GateRecord;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.LocalStack;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The promotion gate on real runs against the real broker and S3 server: a first run's best epoch becomes champion; a
 * run trained on shuffled labels (its held-out images labelled truly) scores worse than the champion on the same images,
 * is kept out as challenger, and the champion does not move.
 */
class PromotionGateTest {
    private static final String GOOD = "gate-good-shapes";
    private static final String SHUFFLED = "gate-shuffled-shapes";
    /** The smallest image the network takes: the gate compares two runs, at any size. */
    private static final int SIZE = 16;
    private static LocalStack stack;
    /** The shuffled dataset's held-out images with their true labels, as this test made them. */
    private static final List<SyntheticShapes.Sample> shuffledValid = new ArrayList<>();

    @BeforeAll
    static void publishDatasets() throws Exception {
        stack = LocalStack.shared();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", stack.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            SyntheticShapes good = new SyntheticShapes(SIZE, 11);
            for (int i = 0; i < 200; i++) {
                SyntheticShapes.Sample s = good.next();
                send(producer, GOOD, s.image(), s.labelName(), i % 5 == 0 ? "valid" : "train");
            }
            SyntheticShapes other = new SyntheticShapes(SIZE, 12);
            Random shuffle = new Random(13);
            for (int i = 0; i < 200; i++) {
                SyntheticShapes.Sample s = other.next();
                boolean valid = i % 4 == 0;
                // Train images get a random label; held-out images keep their true one, so both models are judged truly.
                String label = valid ? s.labelName() : SyntheticShapes.LABELS.get(shuffle.nextInt(SyntheticShapes.LABELS.size()));
                send(producer, SHUFFLED, s.image(), label, valid ? "valid" : "train");
                if (valid) {
                    shuffledValid.add(s);
                }
            }
            producer.flush();
        }
    }

    private static void send(KafkaProducer<String, byte[]> producer, String dataset, BufferedImage image, String label, String split)
            throws Exception {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "png", png);
        byte[] bytes = png.toByteArray();
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.TRAIN, Sha256.hex(bytes), bytes);
        record.headers().add(Headers.LABEL, label.getBytes(StandardCharsets.UTF_8));
        record.headers().add(Headers.SPLIT, split.getBytes(StandardCharsets.UTF_8));
        record.headers().add(Headers.DATASET, dataset.getBytes(StandardCharsets.UTF_8));
        producer.send(record);
    }

    private static Recipe recipe(String model, String dataset, int epochs) {
        return Recipe.builder().modelName(model).network(new NetworkSpec(Architecture.RESNET18, SIZE, Stem.SMALL, Normalization.IMAGENET))
                .epochs(epochs).batchSize(16).lr(2e-3f).weightDecay(1e-4f).warmupIters(5).seed(7).device("cpu").zeroInitResidual(true)
                .cacheMegabytes(64).dataset(dataset).build();
    }

    private static TrainingJob.Result train(Recipe recipe) throws Exception {
        return new TrainingJob(recipe, KafkaClients.of(Map.of("bootstrap.servers", stack.bootstrapServers())), stack.s3Settings(),
                ImageLimits.defaults(), null).run();
    }

    /** The champion's accuracy on the shuffled dataset's held-out images, computed here from the images this test drew. */
    private static double accuracyOn(List<SyntheticShapes.Sample> samples, String model, String version) {
        try (ObjectStore objects = stack.objectStore();
             LoadedModel loaded = ModelSource.fromStore(new CheckpointStore(objects), model, version);
             Classifier classifier = Classifier.load(loaded, PyTorchEngine.device("cpu"), Precision.FP32)) {
            int right = 0;
            for (SyntheticShapes.Sample s : samples) {
                float[] pixels = classifier.preprocessor().toTensor(s.image());
                if (classifier.topK(pixels, 1, 1).get(0).get(0).label().equals(s.labelName())) {
                    right++;
                }
            }
            return (double) right / samples.size();
        }
    }

    @Test
    void aWorseCandidateIsKeptOutAndTheChampionStays() throws Exception {
        String model = "gate-test";
        TrainingJob.Result first = train(recipe(model, GOOD, 4));
        assertNotNull(first.gate());
        assertEquals(GateRecord.PROMOTED, first.gate().decision(), first.gate().reason());
        ModelRegistry registry = new ModelRegistry(stack.objectStore());
        String champion = registry.resolve(model, ModelRegistry.CHAMPION).orElseThrow();
        assertEquals(first.gate().version(), champion);
        // One version per epoch, less any replaced while still waiting for storage (CheckpointPublisher). Only the best
        // stored version is promoted; the others are recorded as kept out.
        List<String> versions = registry.versions(model);
        assertTrue(versions.size() >= 1 && versions.size() <= 4, versions + " for 4 epochs");
        double best = versions.stream().mapToDouble(v -> ((Number) registry.manifest(model, v).metrics().get("validAccuracy")).doubleValue())
                .max().orElseThrow();
        assertEquals(best, ((Number) registry.manifest(model, champion).metrics().get("validAccuracy")).doubleValue());
        long keptOut = versions.stream().filter(v -> registry.gate(model, v).map(g -> GateRecord.KEPT_OUT.equals(g.decision())).orElse(false))
                .count();
        assertEquals(versions.size() - 1, keptOut, "the other versions are recorded as kept out");

        TrainingJob.Result worse = train(recipe(model, SHUFFLED, 3));
        assertEquals(GateRecord.KEPT_OUT, worse.gate().decision(), worse.gate().reason());
        assertEquals(ModelRegistry.CHALLENGER, worse.gate().alias());
        assertEquals(champion, registry.resolve(model, ModelRegistry.CHAMPION).orElseThrow(), "the champion did not move");
        assertEquals(worse.gate().version(), registry.resolve(model, ModelRegistry.CHALLENGER).orElseThrow());
        assertTrue(worse.gate().candidateAccuracy() < worse.gate().championAccuracy(), worse.gate().reason());

        // Both figures are in the candidate's manifest, and the champion's is what scoring it on those images gives.
        @SuppressWarnings("unchecked")
        Map<String, Object> gate = (Map<String, Object>) registry.manifest(model, worse.gate().version()).metrics().get("gate");
        assertEquals(champion, gate.get("championVersion"));
        double recorded = ((Number) gate.get("championAccuracy")).doubleValue();
        assertEquals(accuracyOn(shuffledValid, model, champion), recorded, 1.0 / shuffledValid.size() + 1e-9,
                "the champion's recorded accuracy on the run's held-out split");
        assertEquals(shuffledValid.size(), ((Number) gate.get("heldOutImages")).intValue());

        // The alias moves were announced on petal.models: first champion, then challenger.
        List<AliasMove> moves = aliasEvents(model);
        assertEquals(List.of(ModelRegistry.CHAMPION, ModelRegistry.CHALLENGER), moves.stream().map(AliasMove::alias).toList());
        assertEquals(List.of(champion, worse.gate().version()), moves.stream().map(AliasMove::to).toList());
        assertEquals("trainer", moves.get(1).actor());
    }

    @Test
    void theMarginAndAutoPromoteDecideAgainstAComparableChampion() {
        String model = "gate-margin";
        ObjectStore objects = stack.objectStore();
        CheckpointStore store = new CheckpointStore(objects);
        for (String v : List.of("m1", "m2", "m3", "m4")) {
            store.publish(new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, model, v, null, "2026-12-02T00:00:00Z",
                    new NetworkSpec(Architecture.RESNET18, SIZE, Stem.SMALL, Normalization.IMAGENET).withLabels(SyntheticShapes.LABELS),
                    Map.of(), 1, 1, Map.of(), null, null, null), Map.of(CheckpointManifest.WEIGHTS_FILE, v.getBytes(StandardCharsets.UTF_8)));
        }
        ModelRegistry registry = new ModelRegistry(objects);
        registry.move(model, ModelRegistry.CHAMPION, "m1", AliasMove.PROMOTE, "", "test", false, null);
        PromotionGate.ChampionScore champion = new PromotionGate.ChampionScore("m1", 0.80, 100, null);
        // +1 point against a margin of 2 points: not enough.
        PromotionGate.Outcome short1 = PromotionGate.decide(registry, model, List.of(new PromotionGate.Candidate("m2", 1, 0.81)),
                List.of(), champion, new PromotionGate.Settings(2.0, true));
        assertEquals(GateRecord.KEPT_OUT, short1.decision());
        assertEquals("m1", registry.resolve(model, ModelRegistry.CHAMPION).orElseThrow());
        // Equal accuracy with the default margin (0): promoted, at least as good.
        PromotionGate.Outcome equal = PromotionGate.decide(registry, model, List.of(new PromotionGate.Candidate("m3", 1, 0.80)),
                List.of(), champion, PromotionGate.Settings.DEFAULT);
        assertEquals(GateRecord.PROMOTED, equal.decision());
        assertEquals("m3", registry.resolve(model, ModelRegistry.CHAMPION).orElseThrow());
        // Better, but auto-promote off: challenger, to be promoted by hand.
        PromotionGate.Outcome manual = PromotionGate.decide(registry, model, List.of(new PromotionGate.Candidate("m4", 1, 0.95)),
                List.of(), new PromotionGate.ChampionScore("m3", 0.80, 100, null), new PromotionGate.Settings(0.0, false));
        assertEquals(GateRecord.MANUAL, manual.decision());
        assertEquals("m3", registry.resolve(model, ModelRegistry.CHAMPION).orElseThrow());
        assertEquals("m4", registry.resolve(model, ModelRegistry.CHALLENGER).orElseThrow());
        // A champion with other labels is not compared: manual.
        PromotionGate.Outcome otherLabels = PromotionGate.decide(registry, model, List.of(new PromotionGate.Candidate("m2", 1, 0.99)),
                List.of(), new PromotionGate.ChampionScore("m3", null, 0, "labels differ"), PromotionGate.Settings.DEFAULT);
        assertEquals(GateRecord.MANUAL, otherLabels.decision());
        assertEquals("m3", registry.resolve(model, ModelRegistry.CHAMPION).orElseThrow());
        assertEquals(Optional.of(GateRecord.MANUAL), registry.gate(model, "m2").map(GateRecord::decision));
    }

    private static List<AliasMove> aliasEvents(String model) {
        List<AliasMove> moves = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", stack.bootstrapServers(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.GROUP_ID_CONFIG, "gate-test-" + System.nanoTime()),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.MODELS));
            long deadline = System.currentTimeMillis() + 15_000;
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    ModelEvent.parseAlias(r.value()).filter(m -> m.name().equals(model)).ifPresent(moves::add);
                }
                if (moves.size() >= 2) {
                    break;
                }
            }
        }
        return moves;
    }
}
