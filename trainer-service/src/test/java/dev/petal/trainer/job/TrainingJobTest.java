package dev.petal.trainer.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.localstack.LocalStack;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Training from the real topic into the real object store: learning, checkpoint integrity, exact resume. */
class TrainingJobTest {
    private static final String DATASET = "job-test-shapes";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static LocalStack stack;

    @BeforeAll
    static void publishDataset() throws Exception {
        stack = LocalStack.shared();
        Properties props = kafka();
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        SyntheticShapes shapes = new SyntheticShapes(32, 5);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < 240; i++) {
                SyntheticShapes.Sample s = shapes.next();
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(s.image(), "png", png);
                byte[] bytes = png.toByteArray();
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.TRAIN, Sha256.hex(bytes), bytes);
                record.headers().add(Headers.LABEL, s.labelName().getBytes(StandardCharsets.UTF_8));
                record.headers().add(Headers.SPLIT, (i % 5 == 0 ? "valid" : "train").getBytes(StandardCharsets.UTF_8));
                record.headers().add(Headers.DATASET, DATASET.getBytes(StandardCharsets.UTF_8));
                producer.send(record);
            }
            // Another dataset on the same topic, and a record with no label: neither may disturb the run.
            producer.send(new ProducerRecord<>(Topics.TRAIN, "other", "x".getBytes()));
            producer.flush();
        }
    }

    private static Properties kafka() {
        Properties props = new Properties();
        props.put("bootstrap.servers", stack.bootstrapServers());
        return props;
    }

    private static Recipe recipe(String model, int epochs) {
        Recipe seed = Recipe.seedRecipe();
        return new Recipe(model, "resnet18", epochs, 16, 2e-3f, 1e-4f, 5, 32, false, 7, "cpu", true, true, "imagenet",
                false, null, 0, 0, 2, 4, 64, DATASET);
    }

    @Test
    void learnsWellAboveChanceAndPublishesAVerifiableCheckpoint() throws Exception {
        TrainingJob.Result result = new TrainingJob(recipe("job-learns", 6), kafka(), stack.s3Settings(), ImageLimits.defaults(), null).run();
        CheckpointManifest manifest = result.manifest();
        double accuracy = ((Number) manifest.metrics().get("validAccuracy")).doubleValue();
        assertTrue(accuracy >= 0.6, "valid accuracy " + accuracy + " (chance 0.25)");
        assertEquals(6, manifest.epoch());
        assertEquals(List.of("circle", "cross", "square", "triangle"), manifest.model().labels());
        assertEquals(6, result.history().size());

        CheckpointStore store = new CheckpointStore(stack.objectStore());
        assertEquals(manifest.version(), store.latestVersion("job-learns").orElseThrow());
        CheckpointStore.Checkpoint fetched = store.fetch(store.manifest("job-learns", manifest.version()));
        assertTrue(fetched.files().keySet().containsAll(List.of(CheckpointManifest.WEIGHTS_FILE, TrainingJob.OPTIMIZER_FILE,
                TrainingJob.METRICS_FILE, TrainingJob.REPORT_FILE)), fetched.files().keySet().toString());
        assertTrue(new String(fetched.files().get(TrainingJob.REPORT_FILE), StandardCharsets.UTF_8).contains("<svg"));
        assertTrue(manifest.dataset().offsets().values().stream().mapToLong(r -> r.get(1) - r.get(0)).sum() >= 240);

        List<JsonNode> events = modelEvents("job-learns");
        assertEquals(6, events.size(), "one petal.models event per epoch");
        assertEquals(manifest.version(), events.get(5).path("manifest").path("version").asText());
        assertEquals("models/job-learns/" + manifest.version() + "/manifest.json", events.get(5).path("key").asText());
    }

    @Test
    void resumeAfterAnInterruptionEqualsAnUninterruptedRun() throws Exception {
        CheckpointManifest straight = new TrainingJob(recipe("job-straight", 2), kafka(), stack.s3Settings(),
                ImageLimits.defaults(), null).run().manifest();
        Recipe interrupted = recipe("job-resumed", 2);
        Recipe firstHalf = new Recipe(interrupted.modelName(), interrupted.arch(), 2, 16, 2e-3f, 1e-4f, 5, 32, false, 7, "cpu",
                true, true, "imagenet", false, null, 1, 0, 2, 4, 64, DATASET);
        assertEquals(1, new TrainingJob(firstHalf, kafka(), stack.s3Settings(), ImageLimits.defaults(), null).run().manifest().epoch());
        Recipe resume = new Recipe(interrupted.modelName(), "resnet18", 1, 4, 1e-4f, 0.01f, 20, 224, false, 100, "cpu",
                false, false, "imagenet", true, null, 0, 0, 2, 4, 64, null); // the checkpoint's recipe wins
        CheckpointManifest resumed = new TrainingJob(resume, kafka(), stack.s3Settings(), ImageLimits.defaults(), null).run().manifest();
        assertEquals(2, resumed.epoch());
        assertEquals(straight.step(), resumed.step());
        assertEquals(straight.metrics().get("trainLoss"), resumed.metrics().get("trainLoss"));
        CheckpointStore store = new CheckpointStore(stack.objectStore());
        assertArrayEquals(store.fetch(straight).weights(), store.fetch(resumed).weights(), "same weights, bit for bit");
    }

    private static List<JsonNode> modelEvents(String model) throws Exception {
        Properties props = kafka();
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<JsonNode> events = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            TopicPartition tp = new TopicPartition(Topics.MODELS, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    if (model.equals(r.key())) {
                        events.add(JSON.readTree(r.value()));
                    }
                }
            }
        }
        return events;
    }
}
