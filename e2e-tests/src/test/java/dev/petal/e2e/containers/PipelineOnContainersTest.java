package dev.petal.e2e.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.pipeline.DemoDataset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The pipeline against the images the deployment runs: Apache Kafka's official image ({@value ContainerImages#KAFKA})
 * and MinIO ({@value ContainerImages#MINIO}) in containers, the three packaged services as processes configured by
 * environment variables as in a container. A generated class-folder dataset is ingested to petal.train, a quick model
 * trained and stored in MinIO, and inference, started on it, answers an image with a prediction and garbage with a
 * dead letter. Runs with {@code mvn verify -Pcontainers}; skipped where no Docker engine is reachable.
 */
@Tag("containers")
@ExtendWith(RequiresDocker.class)
class PipelineOnContainersTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "containers";

    static KafkaContainer kafka;
    static MinIOContainer minio;
    static Path work;

    @BeforeAll
    static void containers() throws Exception {
        kafka = new KafkaContainer(ContainerImages.KAFKA);
        minio = new MinIOContainer(ContainerImages.MINIO);
        kafka.start();
        minio.start();
        work = Files.createTempDirectory("petal-containers-");
        // The topics as every environment creates them: explicit partition counts, the contract's settings.
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBootstrapServers()))) {
            List<NewTopic> topics = new ArrayList<>();
            LocalStack.TOPICS.forEach((name, partitions) ->
                    topics.add(new NewTopic(name, partitions, (short) 1).configs(Topics.configsOf(name))));
            admin.createTopics(topics).all().get();
        }
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.stop();
        }
        if (minio != null) {
            minio.stop();
        }
    }

    /** What docker-compose.yml gives each service: the broker and object storage, by environment variable. */
    private static Map<String, String> environment() {
        return Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.getBootstrapServers(), "PETAL_S3_ENDPOINT", minio.getS3URL(),
                "PETAL_S3_ACCESS_KEY", minio.getUserName(), "PETAL_S3_SECRET_KEY", minio.getPassword(),
                "PETAL_S3_BUCKET", "petal", "PETAL_S3_PATH_STYLE", "true");
    }

    @Test
    void ingestTrainAndScoreAgainstKafkaAndMinioContainers() throws Exception {
        Path dataset = work.resolve("shapes");
        DemoDataset.generate(dataset, 30, 48);
        try (PackagedService ingest = PackagedService.start("ingest-service", environment(), work,
                "dataset", dataset.toString(), "--dataset", "shapes")) {
            assertEquals(0, ingest.awaitExit(Duration.ofMinutes(5)), ingest.output());
        }
        try (PackagedService train = PackagedService.start("trainer-service", environment(), work, "train",
                "--dataset", "shapes", "--model-name", MODEL, "--device", "cpu", "--arch", "resnet18", "--image-size", "48",
                "--stem", "small", "--epochs", "1", "--batch-size", "16")) {
            assertEquals(0, train.awaitExit(Duration.ofMinutes(10)), train.output());
        }
        Map<String, String> inference = new java.util.HashMap<>(environment());
        inference.put("PETAL_INFERENCE_MODEL_NAME", MODEL);
        inference.put("PETAL_INFERENCE_DEVICE", "cpu");
        try (PackagedService serve = PackagedService.start("inference-service", inference, work, "serve")) {
            serve.awaitReady(Duration.ofMinutes(5));
            byte[] image;
            try (Stream<Path> files = Files.walk(dataset)) {
                image = Files.readAllBytes(files.filter(p -> p.toString().endsWith(".png") || p.toString().endsWith(".jpg"))
                        .findFirst().orElseThrow());
            }
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    kafka.getBootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(Topics.IMAGES, bytes("containers-good"), image)).get();
                producer.send(new ProducerRecord<>(Topics.IMAGES, bytes("containers-bad"), bytes("not an image"))).get();
            }
            ConsumerRecord<byte[], byte[]> prediction = awaitKey(Topics.PREDICTIONS, "containers-good");
            JsonNode json = JSON.readTree(prediction.value());
            assertEquals(MODEL, json.path("model").path("name").asText(), json.toString());
            assertTrue(json.path("label").isTextual(), json.toString());
            ConsumerRecord<byte[], byte[]> dead = awaitKey(Topics.DLQ, "containers-bad");
            assertEquals("not-an-image", new String(dead.headers().lastHeader(Headers.ERROR_CLASS).value(), StandardCharsets.UTF_8));
        }
    }

    private static ConsumerRecord<byte[], byte[]> awaitKey(String topic, String key) {
        try (KafkaConsumer<byte[], byte[]> reader = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.getBootstrapServers(), ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = reader.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            reader.assign(partitions);
            reader.seekToBeginning(partitions);
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(500))) {
                    if (r.key() != null && key.equals(new String(r.key(), StandardCharsets.UTF_8))) {
                        return r;
                    }
                }
            }
        }
        throw new AssertionError("nothing keyed " + key + " on " + topic + " within 3 minutes");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
