package dev.petal.localstack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.petal.common.records.Topics;
import dev.petal.common.storage.ObjectStore;

/** State survives a restart: of the servers in place, and of the whole stack on the same directory. */
class RestartTest {

    @Test
    void keepsTopicsRecordsAndObjects(@TempDir Path stateDir) throws Exception {
        byte[] image = "a labelled daisy".getBytes(StandardCharsets.UTF_8);
        int kafkaPort;
        int s3Port;
        try (LocalStack stack = timed("first start", () -> LocalStack.start(stateDir))) {
            kafkaPort = stack.kafka().port();
            s3Port = stack.s3().port();
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.TRAIN, "sha-1", image);
            record.headers().add("label", "daisy".getBytes(StandardCharsets.UTF_8));
            KafkaClients.send(stack.bootstrapServers(), record);
            try (ObjectStore store = stack.objectStore()) {
                store.put("models/r18/v1/manifest.json", "{}".getBytes(StandardCharsets.UTF_8));
            }

            // In place: same ports, same data. The group's committed offset survives too.
            timed("restart in place", stack::restart);
            assertEquals(kafkaPort, stack.kafka().port());
            assertEquals(s3Port, stack.s3().port());
            assertRecord(KafkaClients.read(stack.bootstrapServers(), "trainer", Topics.TRAIN, 1), image);
            try (ObjectStore store = stack.objectStore()) {
                assertEquals("{}", new String(store.get("models/r18/v1/manifest.json"), StandardCharsets.UTF_8));
            }
        }

        // A new stack (as after a process restart) on the same directory and ports.
        try (LocalStack again = timed("start on old state", () -> LocalStack.start(stateDir, kafkaPort, s3Port))) {
            assertRecord(KafkaClients.read(again.bootstrapServers(), "someone-else", Topics.TRAIN, 1), image);
            List<ConsumerRecord<String, byte[]>> nothingNew =
                    KafkaClients.read(again.bootstrapServers(), "trainer", Topics.TRAIN, 0);
            assertTrue(nothingNew.isEmpty(), "the trainer group already consumed it");
            try (ObjectStore store = again.objectStore()) {
                assertTrue(store.exists("models/r18/v1/manifest.json"));
                assertEquals(List.of("models/r18/v1/manifest.json"), store.list(""));
            }
            try (var admin = again.kafka().admin()) {
                assertTrue(admin.listTopics().names().get().containsAll(LocalStack.TOPICS.keySet()));
            }
        }
    }

    @Test
    void inMemoryS3KeepsObjectsAcrossStopAndStart() {
        EmbeddedS3 s3 = new EmbeddedS3(null).start();
        try (ObjectStore store = new ObjectStore(s3.settings("scratch"))) {
            store.ensureBucket();
            store.put("a", new byte[] {7});
            s3.stop();
            assertFalse(s3.isRunning());
            s3.start();
            assertArrayEquals(new byte[] {7}, store.get("a"));
        } finally {
            s3.close();
        }
    }

    private static void assertRecord(List<ConsumerRecord<String, byte[]>> records, byte[] image) {
        assertEquals(1, records.size());
        assertEquals("sha-1", records.get(0).key());
        assertArrayEquals(image, records.get(0).value());
        assertEquals("daisy", new String(records.get(0).headers().lastHeader("label").value(), StandardCharsets.UTF_8));
    }

    private static <T> T timed(String what, java.util.function.Supplier<T> action) {
        long start = System.nanoTime();
        T result = action.get();
        System.out.printf("%s: %d ms%n", what, (System.nanoTime() - start) / 1_000_000);
        return result;
    }
}
