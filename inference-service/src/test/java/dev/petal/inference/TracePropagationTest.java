package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * With tracing on (OpenTelemetry, W3C trace context), a prediction continues the trace of the image it answers: its
 * {@code traceparent} header carries the input's trace id, so one image is one trace from ingest through inference.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@TestProfile(TracePropagationTest.Profile.class)
class TracePropagationTest {
    static final String IN = "trace.images";
    static final String OUT = "trace.predictions";
    static final String MODEL = "trace-test";

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.otel.sdk.disabled", "false", "petal.inference.model-name", MODEL,
                    "petal.inference.group", MODEL, "petal.inference.input-topic", IN, "petal.inference.output-topic", OUT,
                    "petal.inference.dead-letter-topic", "trace.dlq", "petal.inference.poll-interval", "1s",
                    "petal.inference.device", "cpu", "quarkus.http.test-port", "0");
        }
    }

    @Inject
    InferenceService service;

    @Test
    void aPredictionCarriesTheTraceIdOfTheImageItAnswers() throws Exception {
        LocalStack stack = LocalStack.shared();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(IN, 2, (short) 1), new NewTopic(OUT, 2, (short) 1),
                    new NewTopic("trace.dlq", 1, (short) 1))).all().get();
        }
        try (ObjectStore objects = stack.objectStore()) {
            new CheckpointStore(objects).publish(TestModels.draft(MODEL, "v1"), Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(7)));
            TestModels.promote(objects, null, MODEL, "v1");
        }
        service.start();
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                stack.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
            ProducerRecord<byte[], byte[]> image = new ProducerRecord<>(IN, bytes("traced"), TestModels.png(77));
            image.headers().add("traceparent", bytes("00-" + traceId + "-00f067aa0ba902b7-01"));
            producer.send(image).get();
        }
        try (TopicReader predictions = new TopicReader(stack.bootstrapServers(), OUT)) {
            List<ConsumerRecord<byte[], byte[]>> out = predictions.await(r -> true, 1, Duration.ofSeconds(90));
            assertEquals(1, out.size(), "the image was scored");
            Header traceparent = out.get(0).headers().lastHeader("traceparent");
            assertNotNull(traceparent, "the prediction carries a traceparent header");
            String[] parts = new String(traceparent.value(), StandardCharsets.UTF_8).split("-");
            assertEquals(4, parts.length, "W3C trace context: version-traceid-spanid-flags");
            assertEquals(traceId, parts[1], "the prediction's trace is the image's");
            assertTrue(!parts[2].equals("00f067aa0ba902b7"), "a span of its own, a child in that trace");
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
