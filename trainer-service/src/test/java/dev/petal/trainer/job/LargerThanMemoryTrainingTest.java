package dev.petal.trainer.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.NetworkSpec;
import dev.petal.common.model.Stem;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.LocalStack;
import dev.petal.common.records.KafkaClients;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A dataset that does not fit the cache trains exactly as one that does: with no image cached, every epoch
 * reads each record again from Kafka by offset (and a third of them, claim-checked, from object storage),
 * and the weights come out bit for bit the same as a fully cached run's.
 */
class LargerThanMemoryTrainingTest {
    private static final String DATASET = "larger-than-memory";
    private static final int IMAGES = 120;
    /** The smallest image the network takes: bit-for-bit equality does not depend on the size. */
    private static final int SIZE = 16;
    private static LocalStack stack;

    @BeforeAll
    static void publishDataset() throws Exception {
        stack = LocalStack.shared();
        Properties props = new Properties();
        props.put("bootstrap.servers", stack.bootstrapServers());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        SyntheticShapes shapes = new SyntheticShapes(SIZE, 11);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props); ObjectStore objects = stack.objectStore()) {
            for (int i = 0; i < IMAGES; i++) {
                SyntheticShapes.Sample s = shapes.next();
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(s.image(), "png", png);
                byte[] bytes = png.toByteArray();
                String id = Sha256.hex(bytes);
                boolean claimChecked = i % 3 == 0;
                byte[] value = bytes;
                if (claimChecked) {
                    String key = "images/" + DATASET + "/" + id + ".png";
                    objects.put(key, bytes);
                    value = new byte[0];
                }
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.TRAIN, id, value);
                record.headers().add(Headers.LABEL, s.labelName().getBytes(StandardCharsets.UTF_8));
                record.headers().add(Headers.SPLIT, (i % 5 == 0 ? "valid" : "train").getBytes(StandardCharsets.UTF_8));
                record.headers().add(Headers.DATASET, DATASET.getBytes(StandardCharsets.UTF_8));
                if (claimChecked) {
                    record.headers().add(Headers.IMAGE_REF, ("s3://" + stack.s3Settings().bucket() + "/images/" + DATASET + "/" + id
                            + ".png").getBytes(StandardCharsets.UTF_8));
                }
                producer.send(record);
            }
            producer.flush();
        }
    }

    private static Recipe recipe(String model, long cacheMegabytes) {
        return Recipe.builder().modelName(model).network(new NetworkSpec(Architecture.RESNET18, SIZE, Stem.SMALL, Normalization.IMAGENET))
                .epochs(2).batchSize(16).lr(2e-3f).weightDecay(1e-4f).warmupIters(3).seed(3).device("cpu")
                .cacheMegabytes(cacheMegabytes).dataset(DATASET).build();
    }

    @Test
    void noCacheTrainsBitForBitAsAFullCacheAndReadsClaimCheckedImages() throws Exception {
        KafkaClients kafka = KafkaClients.of(Map.of("bootstrap.servers", stack.bootstrapServers()));
        CheckpointManifest cached = new TrainingJob(recipe("ltm-cached", 64), kafka, stack.s3Settings(), ImageLimits.defaults(), null)
                .run().manifest();
        CheckpointManifest uncached = new TrainingJob(recipe("ltm-uncached", 0), kafka, stack.s3Settings(), ImageLimits.defaults(), null)
                .run().manifest();
        assertEquals(((Number) cached.metrics().get("trainImages")).longValue(), ((Number) uncached.metrics().get("trainImages")).longValue());
        assertEquals(IMAGES - IMAGES / 5, ((Number) uncached.metrics().get("trainImages")).longValue(),
                "every train image, claim-checked ones included, was read");
        assertEquals(0L, ((Number) uncached.metrics().get("skippedImages")).longValue());
        assertEquals(cached.metrics().get("trainLoss"), uncached.metrics().get("trainLoss"));
        CheckpointStore store = new CheckpointStore(stack.objectStore());
        assertArrayEquals(store.fetch(cached).weights(), store.fetch(uncached).weights(), "the same weights, bit for bit");
    }
}
