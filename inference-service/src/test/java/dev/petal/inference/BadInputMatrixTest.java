package dev.petal.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.petal.testing.TestImages;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.records.Headers;
import dev.petal.common.storage.ObjectStore;
import dev.petal.inference.model.ModelHolder;
import dev.petal.inference.model.ModelWatcher;
import dev.petal.inference.scoring.ImageInput;
import dev.petal.inference.scoring.ImageScorer;
import dev.petal.inference.scoring.Rejection;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue #8, "Bad input": every kind of bad input a Kafka client can send ends in the dead-letter
 * topic exactly once, with the expected {@code error-class}, the input's key and value byte for byte
 * and the right source headers; good images sent between them are each scored once, in input order
 * per partition; and a burst of 1,000 garbage records does not stop or stall the good ones after it.
 *
 * <p>Its own topics, group and model, so nothing here mixes with {@code petal.*} or other classes.
 * The output and dead-letter topics have one partition each, so their order is the order in which the
 * service wrote them, and "in input order per partition" can be checked by offsets.
 */
@QuarkusTest
@QuarkusTestResource(LocalStackTestResource.class)
@TestProfile(BadInputMatrixTest.Profile.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadInputMatrixTest {
    static final String IN = "badinput.images";
    static final String OUT = "badinput.predictions";
    static final String DLQ = "badinput.dlq";
    static final String MODEL = "bad-input-matrix";
    static final int PARTITIONS = 3;
    static final int MAX_BYTES = 300_000;
    static final String SCORED = "scored";
    static final ObjectMapper JSON = new ObjectMapper();

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>();
            config.put("petal.inference.model-name", MODEL);
            config.put("petal.inference.group", MODEL);
            config.put("petal.inference.input-topic", IN);
            config.put("petal.inference.output-topic", OUT);
            config.put("petal.inference.dead-letter-topic", DLQ);
            config.put("petal.inference.poll-interval", "1s");
            config.put("petal.inference.device", "cpu");
            config.put("petal.inference.max-batch", "32");
            config.put("petal.inference.decode-threads", "2");
            config.put("petal.image.max-bytes", Integer.toString(MAX_BYTES));
            config.put("quarkus.http.test-port", "0");
            return config;
        }
    }

    /** One input: what it is called in the log, the record, and {@link #SCORED} or the error class it must get. */
    record Case(String name, ProducerRecord<byte[], byte[]> record, String expected) {}

    /** A case and where the broker put it. */
    record Sent(Case input, int partition, long offset) {}

    @Inject
    InferenceService service;

    @Inject
    ModelHolder holder;

    @Inject
    ModelWatcher watcher;

    @Inject
    ImageScorer scorer;

    static KafkaProducer<byte[], byte[]> producer;
    static TopicReader predictions;
    static TopicReader deadLetters;
    static ObjectStore objects;
    static final List<Sent> everything = new ArrayList<>();
    static int goodSeed = 5000;

    @BeforeAll
    static void topicsModelAndClients() throws Exception {
        LocalStack stack = LocalStack.shared();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(IN, PARTITIONS, (short) 1), new NewTopic(OUT, 1, (short) 1),
                    new NewTopic(DLQ, 1, (short) 1))).all().get();
        }
        objects = stack.objectStore();
        new CheckpointStore(objects).publish(TestModels.draft(MODEL, "v1"), Map.of(CheckpointManifest.WEIGHTS_FILE, TestModels.weights(8)));
        TestModels.promote(objects, null, MODEL, "v1");
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 * 1024 * 1024, ProducerConfig.LINGER_MS_CONFIG, 5),
                new ByteArraySerializer(), new ByteArraySerializer());
        predictions = new TopicReader(stack.bootstrapServers(), OUT);
        deadLetters = new TopicReader(stack.bootstrapServers(), DLQ);
    }

    @AfterAll
    static void closeClients() {
        producer.close();
        predictions.close();
        deadLetters.close();
        objects.close();
    }

    @Test
    @Order(1)
    void everyKindOfBadInputIsDeadLetteredOnceWithItsClassWhileGoodOnesScore() throws Exception {
        service.start();
        assertTrue(holder.awaitLoaded(60_000), "the model did not load; refused: " + watcher.refusedVersions());
        byte[] png = TestModels.png(1);
        byte[] jpeg = TestModels.jpeg(2);
        List<Case> cases = new ArrayList<>();

        // The bytes themselves.
        cases.add(bad("zero-bytes", new byte[0], "empty"));
        cases.add(bad("null-value", null, "empty")); // a tombstone: no value at all
        cases.add(bad("random-bytes", randomBytes(3, 4096), "not-an-image"));
        cases.add(bad("truncated-jpeg", Arrays.copyOf(jpeg, jpeg.length / 2), "truncated"));
        cases.add(bad("truncated-png", Arrays.copyOf(png, png.length / 2), "truncated"));
        cases.add(bad("jpeg-magic-then-random", concat(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF}, randomBytes(4, 2000)), "truncated"));
        cases.add(bad("text-file", utf8("Roses are red,\nviolets are blue,\nthis is a text file\nand not an image for you.\n"), "not-an-image"));
        cases.add(bad("html", utf8("<!DOCTYPE html>\n<html><head><title>daisy.jpg</title></head><body><img src=\"daisy.jpg\"></body></html>\n"),
                "not-an-image"));
        cases.add(bad("svg", utf8("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>"),
                "unsupported-format"));
        cases.add(bad("png-with-garbage-data", pngWithRandomIdat(), "corrupt"));
        // The bytes decide the format, never a content-type header: a valid PNG that says it is a JPEG
        // is scored (it is a good image), and text that says it is a PNG is still not an image.
        cases.add(withHeaders(good("lying-content-type-valid-png", png), "content-type", utf8("image/jpeg")));
        cases.add(withHeaders(bad("lying-content-type-text", utf8("definitely a png"), "not-an-image"), "content-type", utf8("image/png")));
        // Decompression bombs: a header that claims 100000 x 100000, a real 20000 x 20000 PNG deflated
        // into a few KB, and a JPEG whose frame header claims 60000 x 60000. All rejected from the header.
        cases.add(bad("bomb-png-header", pngClaiming(png, 100_000, 100_000), "too-many-pixels"));
        byte[] deflated = deeplyCompressedPng(20_000, 20_000);
        assertTrue(deflated.length < 100_000, "a deflate bomb is small: " + deflated.length);
        cases.add(bad("bomb-png-deflate", deflated, "too-many-pixels"));
        cases.add(bad("bomb-jpeg-header", jpegClaiming(jpeg, 60_000, 60_000), "too-many-pixels"));
        // Over the size limit (petal.image.max-bytes = 300000 here): a real PNG followed by padding.
        cases.add(bad("over-size-limit", concat(png, new byte[MAX_BYTES + 1 - png.length]), "too-large"));

        // Claim-checks.
        objects.put("claims/matrix-good.png", TestModels.png(6));
        objects.put("claims/matrix-text.txt", utf8("not an image either"));
        objects.put("claims/matrix-big.png", concat(png, new byte[MAX_BYTES + 10]));
        String bucket = objects.bucket();
        cases.add(claim(good("claim-good", null), utf8("s3://" + bucket + "/claims/matrix-good.png")));
        cases.add(claim(bad("claim-missing-object", utf8("v"), "claim-check-unreachable"), utf8("s3://" + bucket + "/claims/nothing-here.png")));
        cases.add(claim(bad("claim-other-bucket", null, "claim-check-refused"), utf8("s3://someone-elses-bucket/claims/matrix-good.png")));
        cases.add(claim(bad("claim-https-scheme", null, "claim-check-refused"), utf8("https://example.com/daisy.jpg")));
        cases.add(claim(bad("claim-file-scheme", null, "claim-check-refused"), utf8("file:///etc/passwd")));
        cases.add(claim(bad("claim-uppercase-scheme", null, "claim-check-refused"), utf8("S3://" + bucket + "/claims/matrix-good.png")));
        cases.add(claim(bad("claim-dot-dot", null, "claim-check-refused"), utf8("s3://" + bucket + "/claims/../../other-bucket/x.png")));
        cases.add(claim(bad("claim-trailing-dot-dot", null, "claim-check-refused"), utf8("s3://" + bucket + "/claims/..")));
        cases.add(claim(bad("claim-empty-ref", null, "claim-check-refused"), new byte[0]));
        cases.add(claim(bad("claim-null-ref", null, "claim-check-refused"), null));
        cases.add(claim(bad("claim-not-utf8", null, "claim-check-refused"),
                concat(utf8("s3://" + bucket + "/claims/"), new byte[] {(byte) 0xC3, (byte) 0x28, (byte) 0xFF})));
        cases.add(claim(bad("claim-100k-ref", null, "claim-check-refused"), utf8("s3://" + bucket + "/" + "k".repeat(100_000))));
        cases.add(claim(bad("claim-object-not-an-image", null, "not-an-image"), utf8("s3://" + bucket + "/claims/matrix-text.txt")));
        cases.add(claim(bad("claim-object-over-size-limit", null, "too-large"), utf8("s3://" + bucket + "/claims/matrix-big.png")));

        // Headers: big, many, not UTF-8, forged. Only image-ref and ce_id mean anything to the service.
        cases.add(withHeaders(good("header-100k-content-type", TestModels.png(7)), "content-type", utf8("image/" + "x".repeat(100_000))));
        cases.add(withHeaders(bad("header-100k-on-garbage", randomBytes(8, 500), "not-an-image"), "content-type", utf8("y".repeat(100_000))));
        cases.add(withHeaders(good("header-not-utf8", TestModels.jpeg(9)), "content-type", new byte[] {(byte) 0xFF, (byte) 0xFE, 0x00, (byte) 0x80}));
        cases.add(withHeaders(good("header-null-value", TestModels.png(10)), "content-type", null));
        cases.add(thousandHeaders(good("headers-1000", TestModels.png(11))));
        cases.add(thousandHeaders(bad("headers-1000-on-text", utf8("hello"), "not-an-image")));
        cases.add(withHeaders(bad("header-forged-dead-letter", utf8("replayed garbage"), "not-an-image"),
                "error-class", utf8("forged"), "source-offset", utf8("-7"), "source-topic", utf8("elsewhere")));
        cases.add(withHeaders(good("ce-id-not-utf8", TestModels.png(12)), "ce_id", new byte[] {(byte) 0xC0, (byte) 0xAF}, "ce_specversion", utf8("1.0")));

        // Keys that are not UTF-8: the record still comes out once, with its key bytes untouched.
        byte[] latin1Key = "rosé-ünïcödé".getBytes(StandardCharsets.ISO_8859_1);
        cases.add(keyed(good("key-not-utf8-good", TestModels.png(13)), latin1Key));
        cases.add(keyed(bad("key-not-utf8-bad", utf8("junk"), "not-an-image"), new byte[] {(byte) 0xFF, (byte) 0xFE, (byte) 0xFD, 0x00, 0x01}));
        cases.add(keyed(good("key-empty", TestModels.png(14)), new byte[0]));
        cases.add(keyed(good("key-none", TestModels.png(15)), null));

        // Interleave: every bad input is followed by a good image, and partitions are used in turn.
        List<Case> stream = new ArrayList<>();
        for (Case c : cases) {
            stream.add(c);
            stream.add(good("good-" + goodSeed, TestModels.png(goodSeed++)));
        }
        long start = System.nanoTime();
        List<Sent> sent = send(stream, i -> i % PARTITIONS);
        Map<String, ConsumerRecord<byte[], byte[]>> outputs = awaitOutputs(sent, Duration.ofSeconds(90));
        System.out.printf("bad-input matrix: %d inputs (%d kinds) -> %d outputs in %.1f s%n", sent.size(), cases.size(),
                outputs.size(), (System.nanoTime() - start) / 1e9);

        StringBuilder observed = new StringBuilder();
        for (Sent s : sent) {
            ConsumerRecord<byte[], byte[]> out = outputs.get(position(s.partition(), s.offset()));
            assertNotNull(out, s.input().name() + " (" + s.partition() + ":" + s.offset() + ") got no output");
            checkOutput(s, out);
            if (!s.input().name().startsWith("good-")) {
                observed.append(String.format("  %-32s -> %s%n", s.input().name(), describe(out)));
            }
        }
        System.out.print(observed);

        // Non-UTF-8 keys: the prediction keeps the key bytes; its JSON id is partition:offset, as for a
        // record with no key (decoded as UTF-8 the key would turn into U+FFFD and could collide with another).
        Sent latin1 = find(sent, "key-not-utf8-good");
        ConsumerRecord<byte[], byte[]> latin1Out = outputs.get(position(latin1.partition(), latin1.offset()));
        assertArrayEquals(latin1Key, latin1Out.key());
        assertEquals(latin1.partition() + ":" + latin1.offset(), JSON.readTree(latin1Out.value()).path("id").asText());
        Sent ce = find(sent, "ce-id-not-utf8");
        assertEquals("ce-id-not-utf8", JSON.readTree(outputs.get(position(ce.partition(), ce.offset())).value()).path("id").asText(),
                "a ce_id that is not UTF-8 falls back to the key");
        Sent keyless = find(sent, "key-none");
        ConsumerRecord<byte[], byte[]> keylessOut = outputs.get(position(keyless.partition(), keyless.offset()));
        assertEquals(keyless.partition() + ":" + keyless.offset(), string(keylessOut.key()));
        Sent empty = find(sent, "key-empty");
        ConsumerRecord<byte[], byte[]> emptyOut = outputs.get(position(empty.partition(), empty.offset()));
        assertEquals(0, emptyOut.key().length, "an empty key stays empty");
        assertEquals(empty.partition() + ":" + empty.offset(), JSON.readTree(emptyOut.value()).path("id").asText(),
                "an empty key gives no id: partition:offset does");
        Sent forged = find(sent, "header-forged-dead-letter");
        ConsumerRecord<byte[], byte[]> forgedOut = outputs.get(position(forged.partition(), forged.offset()));
        for (String name : List.of(Headers.ERROR_CLASS, Headers.SOURCE_OFFSET, Headers.SOURCE_TOPIC)) {
            int count = 0;
            for (Header ignored : forgedOut.headers().headers(name)) {
                count++;
            }
            assertEquals(1, count, "a dead letter carries one " + name + " header, its own");
        }
        Sent big = find(sent, "header-100k-on-garbage");
        assertEquals(100_000, outputs.get(position(big.partition(), big.offset())).headers().lastHeader("content-type").value().length,
                "the input's headers travel with its dead letter");

        checkExactlyOnceAndInOrder(sent);
        everything.addAll(sent);
    }

    @Test
    @Order(2)
    void aBurstOfAThousandGarbageRecordsIsDeadLetteredAndTheGoodOnesAroundItAreScoredInOrder() throws Exception {
        assertTrue(holder.awaitLoaded(1000), "the model did not load; refused: " + watcher.refusedVersions());
        byte[] png = TestModels.png(3);
        byte[] jpeg = TestModels.jpeg(4);
        String bucket = objects.bucket();
        Random random = new Random(42);
        List<Case> before = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            before.add(good("burst-good-before-" + i, TestModels.png(goodSeed++)));
        }
        List<Case> garbage = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            String name = "burst-garbage-" + i;
            garbage.add(switch (i % 10) {
                case 0 -> bad(name, new byte[0], "empty");
                case 1 -> bad(name, randomBytes(random.nextLong(), 1 + random.nextInt(3000)), "not-an-image");
                case 2 -> bad(name, utf8("line " + i + " of a log file that someone piped into the wrong topic\n"), "not-an-image");
                case 3 -> bad(name, Arrays.copyOf(jpeg, 10 + random.nextInt(jpeg.length - 20)), "truncated");
                case 4 -> bad(name, Arrays.copyOf(png, 10 + random.nextInt(png.length - 20)), "truncated");
                case 5 -> bad(name, utf8("<html><body>" + i + "</body></html>"), "not-an-image");
                case 6 -> bad(name, pngClaiming(png, 50_000 + i, 50_000), "too-many-pixels");
                case 7 -> bad(name, pngWithRandomIdat(), "corrupt");
                case 8 -> i % 50 == 8
                        ? claim(bad(name, null, "claim-check-unreachable"), utf8("s3://" + bucket + "/claims/missing-" + i))
                        : claim(bad(name, null, "claim-check-refused"), utf8("s3://other/" + i));
                // a PNG signature, then a first chunk whose length runs past the end
                default -> bad(name, concat(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 1}, randomBytes(i, 100)), "truncated");
            });
        }
        List<Case> after = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            after.add(good("burst-good-after-" + i, TestModels.png(goodSeed++)));
        }
        List<Case> elsewhere = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            elsewhere.add(good("burst-good-other-partition-" + i, TestModels.jpeg(goodSeed++)));
        }

        // All on partition 0 (the one partition a burst would hit), in this order; a few good ones on partition 1 meanwhile.
        List<Case> onZero = new ArrayList<>(before);
        onZero.addAll(garbage);
        onZero.addAll(after);
        long start = System.nanoTime();
        List<Sent> sent = send(onZero, i -> 0);
        sent.addAll(send(elsewhere, i -> 1));
        long sentAt = System.nanoTime();
        Map<String, ConsumerRecord<byte[], byte[]>> outputs = awaitOutputs(sent, Duration.ofSeconds(120));
        long doneAt = System.nanoTime();

        Sent lastGarbage = find(sent, "burst-garbage-999");
        Sent firstGarbage = find(sent, "burst-garbage-0");
        ConsumerRecord<byte[], byte[]> firstDead = outputs.get(position(firstGarbage.partition(), firstGarbage.offset()));
        ConsumerRecord<byte[], byte[]> lastDead = outputs.get(position(lastGarbage.partition(), lastGarbage.offset()));
        assertNotNull(firstDead, "the first garbage record was not dead-lettered");
        assertNotNull(lastDead, "the last garbage record was not dead-lettered");
        double burstSeconds = Math.max(1, lastDead.timestamp() - firstDead.timestamp()) / 1000.0;
        System.out.printf("garbage burst: 1000 records dead-lettered in %.2f s (%.0f/s, broker timestamps); "
                        + "sending took %.2f s; everything (%d inputs) out %.2f s after the start%n",
                burstSeconds, 1000 / burstSeconds, (sentAt - start) / 1e9, sent.size(), (doneAt - start) / 1e9);

        for (Sent s : sent) {
            ConsumerRecord<byte[], byte[]> out = outputs.get(position(s.partition(), s.offset()));
            assertNotNull(out, s.input().name() + " got no output");
            checkOutput(s, out);
        }
        // The good ones after the burst are scored after the burst's dead letters were written, in order.
        long lastAfterPrediction = 0;
        for (Case c : after) {
            Sent s = find(sent, c.name());
            ConsumerRecord<byte[], byte[]> out = outputs.get(position(s.partition(), s.offset()));
            assertTrue(out.timestamp() >= lastDead.timestamp(), c.name() + " was scored before the burst ahead of it finished");
            lastAfterPrediction = Math.max(lastAfterPrediction, out.timestamp());
        }
        System.out.printf("the 10 good images after the burst were scored within %d ms of the last dead letter%n",
                lastAfterPrediction - lastDead.timestamp());
        everything.addAll(sent);
        checkExactlyOnceAndInOrder(everything);
    }

    /**
     * A decoder that throws an Error (StackOverflowError, InternalError from Java2D or a colour
     * profile, LinkageError) used to escape the decode pool, fail the whole batch and stop the scoring
     * loop. Now it is that one input's {@code internal-error}; the inputs beside it are scored.
     */
    @Test
    @Order(3)
    void anErrorWhileDecodingOneInputRejectsOnlyThatInput() throws Exception {
        assertTrue(holder.awaitLoaded(1000), "the model did not load; refused: " + watcher.refusedVersions());
        List<ImageInput> inputs = List.of(ImageInput.of(TestModels.png(1)), () -> {
            throw new StackOverflowError("deeply nested image structure");
        }, () -> {
            throw new InternalError("colour conversion failed");
        }, ImageInput.of(TestModels.jpeg(2)));
        try (ModelHolder.Lease lease = holder.acquire().orElseThrow()) {
            List<ImageScorer.Outcome> outcomes = scorer.score(inputs, lease.classifier());
            assertTrue(outcomes.get(0).scored());
            assertEquals(Rejection.INTERNAL, outcomes.get(1).rejection().errorClass());
            assertTrue(outcomes.get(1).rejection().reason().contains("StackOverflowError"), outcomes.get(1).rejection().reason());
            assertEquals(Rejection.INTERNAL, outcomes.get(2).rejection().errorClass());
            assertTrue(outcomes.get(3).scored());
        }
    }

    /**
     * An input just under the broker's record limit (1 MiB by default) is accepted by the broker; its
     * dead letter, the same value plus the error and source headers, would not be, and the service
     * retried that batch forever (issue #8: it wrote the good image beside it again every second).
     * Now the dead letter leaves the value out and says so, and the service goes on. The same for a
     * good image under a key so long that its prediction would not fit: it is keyed partition:offset.
     * Last in the class: a service that stalls here stays stalled.
     */
    @Test
    @Order(4)
    void inputsWhoseOutputWouldBeTooBigForTheBrokerDoNotStallTheService() throws Exception {
        assertTrue(holder.awaitLoaded(1000), "the model did not load; refused: " + watcher.refusedVersions());
        int brokerLimit = 1024 * 1024 + 12; // message.max.bytes default: the largest record batch the broker takes
        byte[] value = randomBytes(77, brokerLimit - 200);
        byte[] tinyPng = TestModels.encode(new java.awt.image.BufferedImage(2, 2, java.awt.image.BufferedImage.TYPE_INT_RGB), "png");
        assertTrue(tinyPng.length < 100, "smaller than a prediction's JSON: " + tinyPng.length);
        byte[] hugeKey = utf8("k".repeat(brokerLimit - 100 - tinyPng.length)); // the input fits, with a JSON beside it, not
        List<Case> cases = List.of(
                bad("near-broker-limit", value, "too-large"),
                good("after-near-broker-limit", TestModels.png(goodSeed++)),
                keyed(good("near-broker-limit-key", tinyPng), hugeKey),
                good("after-near-broker-limit-key", TestModels.png(goodSeed++)));
        List<Sent> sent = send(cases, i -> 2);
        Map<String, ConsumerRecord<byte[], byte[]>> outputs = awaitOutputs(sent, Duration.ofSeconds(30));

        ConsumerRecord<byte[], byte[]> dead = outputs.get(position(sent.get(0).partition(), sent.get(0).offset()));
        assertEquals(DLQ, dead.topic());
        assertEquals("too-large", header(dead, Headers.ERROR_CLASS));
        assertEquals(Long.toString(sent.get(0).offset()), header(dead, Headers.SOURCE_OFFSET));
        assertArrayEquals(utf8("near-broker-limit"), dead.key());
        assertNull(dead.value(), "the value could not travel: left out");
        assertTrue(header(dead, Headers.ERROR_REASON).startsWith("[dead letter without its " + value.length + "-byte value"),
                header(dead, Headers.ERROR_REASON));
        System.out.printf("near-broker-limit input (%d bytes) -> %s%n", value.length, header(dead, Headers.ERROR_REASON));

        ConsumerRecord<byte[], byte[]> longKey = outputs.get(position(sent.get(2).partition(), sent.get(2).offset()));
        assertEquals(OUT, longKey.topic());
        String position = sent.get(2).partition() + ":" + sent.get(2).offset();
        assertEquals(position, string(longKey.key()), "a key that leaves no room for the prediction gives way to partition:offset");
        assertEquals(position, JSON.readTree(longKey.value()).path("id").asText());
        assertEquals(OUT, outputs.get(position(sent.get(1).partition(), sent.get(1).offset())).topic());
        assertEquals(OUT, outputs.get(position(sent.get(3).partition(), sent.get(3).offset())).topic());
        everything.addAll(sent);
        checkExactlyOnceAndInOrder(everything);
    }

    // ---- checks

    /** The one output of an input is what its case expects, and carries the contract's fields. */
    private static void checkOutput(Sent s, ConsumerRecord<byte[], byte[]> out) throws Exception {
        Case c = s.input();
        ProducerRecord<byte[], byte[]> in = c.record();
        if (c.expected().equals(SCORED)) {
            assertEquals(OUT, out.topic(), c.name() + " should be scored, but was dead-lettered: " + describe(out));
            JsonNode json = JSON.readTree(out.value());
            assertEquals(IN, json.path("source").path("topic").asText());
            assertEquals(s.partition(), json.path("source").path("partition").asInt());
            assertEquals(s.offset(), json.path("source").path("offset").asLong());
            assertEquals("v1", json.path("model").path("version").asText());
            assertTrue(TestModels.SPEC.labels().contains(json.path("label").asText()), c.name());
            if (in.key() != null) {
                assertArrayEquals(in.key(), out.key(), c.name() + ": the prediction keeps the input's key bytes");
            }
        } else {
            assertEquals(DLQ, out.topic(), c.name() + " should be dead-lettered as " + c.expected() + ", but was scored");
            assertEquals(c.expected(), header(out, Headers.ERROR_CLASS), c.name() + ": " + header(out, Headers.ERROR_REASON));
            String reason = header(out, Headers.ERROR_REASON);
            assertTrue(reason.length() > 3 && reason.length() <= 300 && reason.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7F),
                    c.name() + ": the reason is one short printable line: " + reason.length() + " chars");
            assertEquals(IN, header(out, Headers.SOURCE_TOPIC));
            assertEquals(Integer.toString(s.partition()), header(out, Headers.SOURCE_PARTITION));
            assertEquals(Long.toString(s.offset()), header(out, Headers.SOURCE_OFFSET));
            if (in.value() == null) {
                assertNull(out.value(), c.name() + ": no value in, no value out");
            } else {
                assertArrayEquals(in.value(), out.value(), c.name() + ": the value is untouched");
            }
            if (in.key() == null) {
                assertNull(out.key(), c.name());
            } else {
                assertArrayEquals(in.key(), out.key(), c.name() + ": the key bytes are untouched");
            }
        }
    }

    /**
     * Exactly one output per input across both topics, nothing else from this class; and, per input
     * partition, predictions and dead letters written in the order of the inputs.
     */
    private static void checkExactlyOnceAndInOrder(List<Sent> sent) {
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>(predictions.settle(r -> true, Duration.ofMillis(500)));
        all.addAll(deadLetters.settle(r -> true, Duration.ofMillis(200)));
        Map<String, Integer> count = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : all) {
            count.merge(sourceOf(r), 1, Integer::sum);
        }
        for (Sent s : sent) {
            assertEquals(1, count.getOrDefault(position(s.partition(), s.offset()), 0), s.input().name() + ": outputs");
        }
        assertEquals(sent.size(), all.size(), "no output without an input");
        for (String topic : List.of(OUT, DLQ)) {
            Map<Integer, Long> lastOffset = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : all) { // each topic has one partition: record order is write order
                if (r.topic().equals(topic)) {
                    String[] source = sourceOf(r).split(":");
                    int partition = Integer.parseInt(source[0]);
                    long offset = Long.parseLong(source[1]);
                    Long previous = lastOffset.put(partition, offset);
                    assertTrue(previous == null || previous < offset,
                            topic + ": input " + partition + ":" + offset + " came out after " + partition + ":" + previous);
                }
            }
        }
    }

    /** Waits until every input has an output (predictions or dead letters), keyed by "partition:offset". */
    private static Map<String, ConsumerRecord<byte[], byte[]>> awaitOutputs(List<Sent> sent, Duration timeout) {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        Map<String, ConsumerRecord<byte[], byte[]>> byPosition = new HashMap<>();
        while (true) {
            byPosition.clear();
            for (ConsumerRecord<byte[], byte[]> r : predictions.await(x -> true, Integer.MAX_VALUE, Duration.ofMillis(300))) {
                byPosition.put(sourceOf(r), r);
            }
            for (ConsumerRecord<byte[], byte[]> r : deadLetters.await(x -> true, Integer.MAX_VALUE, Duration.ofMillis(300))) {
                byPosition.put(sourceOf(r), r);
            }
            long missing = sent.stream().filter(s -> !byPosition.containsKey(position(s.partition(), s.offset()))).count();
            if (missing == 0) {
                return byPosition;
            }
            if (System.currentTimeMillis() > deadline) {
                List<String> names = sent.stream().filter(s -> !byPosition.containsKey(position(s.partition(), s.offset())))
                        .limit(20).map(s -> s.input().name()).toList();
                fail(missing + " of " + sent.size() + " inputs got no output within " + timeout + ", e.g. " + names);
            }
        }
    }

    /** "partition:offset" of the input an output is for. */
    private static String sourceOf(ConsumerRecord<byte[], byte[]> r) {
        if (r.topic().equals(DLQ)) {
            return header(r, Headers.SOURCE_PARTITION) + ":" + header(r, Headers.SOURCE_OFFSET);
        }
        try {
            JsonNode source = JSON.readTree(r.value()).path("source");
            return source.path("partition").asInt() + ":" + source.path("offset").asLong();
        } catch (Exception e) {
            throw new AssertionError("a prediction that is not JSON: " + string(r.value()), e);
        }
    }

    private static String describe(ConsumerRecord<byte[], byte[]> out) {
        if (out.topic().equals(OUT)) {
            return SCORED;
        }
        return header(out, Headers.ERROR_CLASS) + " (" + header(out, Headers.ERROR_REASON) + ")";
    }

    // ---- sending

    private static List<Sent> send(List<Case> cases, java.util.function.IntUnaryOperator partitionOf) throws Exception {
        List<Future<RecordMetadata>> acks = new ArrayList<>(cases.size());
        for (int i = 0; i < cases.size(); i++) {
            ProducerRecord<byte[], byte[]> r = cases.get(i).record();
            ProducerRecord<byte[], byte[]> placed = new ProducerRecord<>(IN, partitionOf.applyAsInt(i), null, r.key(), r.value(), r.headers());
            acks.add(producer.send(placed));
        }
        producer.flush();
        List<Sent> sent = new ArrayList<>(cases.size());
        for (int i = 0; i < cases.size(); i++) {
            RecordMetadata m = acks.get(i).get();
            sent.add(new Sent(cases.get(i), m.partition(), m.offset()));
        }
        return sent;
    }

    private static Sent find(List<Sent> sent, String name) {
        return sent.stream().filter(s -> s.input().name().equals(name)).findFirst().orElseThrow();
    }

    private static String position(int partition, long offset) {
        return partition + ":" + offset;
    }

    // ---- cases

    private static Case bad(String name, byte[] value, String errorClass) {
        return new Case(name, new ProducerRecord<>(IN, utf8(name), value), errorClass);
    }

    private static Case good(String name, byte[] value) {
        return new Case(name, new ProducerRecord<>(IN, utf8(name), value), SCORED);
    }

    private static Case withHeaders(Case c, Object... namesAndValues) {
        for (int i = 0; i < namesAndValues.length; i += 2) {
            c.record().headers().add(new RecordHeader((String) namesAndValues[i], (byte[]) namesAndValues[i + 1]));
        }
        return c;
    }

    private static Case claim(Case c, byte[] ref) {
        return withHeaders(c, Headers.IMAGE_REF, ref);
    }

    private static Case thousandHeaders(Case c) {
        for (int i = 0; i < 1000; i++) {
            c.record().headers().add("x-header-" + (i % 10), utf8("value " + i));
        }
        return c;
    }

    private static Case keyed(Case c, byte[] key) {
        ProducerRecord<byte[], byte[]> r = c.record();
        return new Case(c.name(), new ProducerRecord<>(IN, null, key, r.value(), r.headers()), c.expected());
    }

    // ---- bytes

    private static byte[] randomBytes(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        b[0] = 'r'; // never a magic number by chance
        return b;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** {@code png} with its IHDR rewritten to claim {@code width x height} (CRC fixed). */
    static byte[] pngClaiming(byte[] png, int width, int height) {
        byte[] b = png.clone();
        ByteBuffer.wrap(b, 16, 8).putInt(width).putInt(height);
        CRC32 crc = new CRC32();
        crc.update(b, 12, 17);
        ByteBuffer.wrap(b, 29, 4).putInt((int) crc.getValue());
        return b;
    }

    /** {@code jpeg} with its frame header (SOFn) rewritten to claim {@code width x height}. */
    static byte[] jpegClaiming(byte[] jpeg, int width, int height) {
        byte[] b = jpeg.clone();
        int i = 2;
        while (i + 9 < b.length) {
            int marker = b[i + 1] & 0xFF;
            int length = (b[i + 2] & 0xFF) << 8 | (b[i + 3] & 0xFF);
            if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
                ByteBuffer.wrap(b, i + 5, 4).putShort((short) height).putShort((short) width);
                return b;
            }
            i += 2 + length;
        }
        throw new IllegalStateException("no frame header");
    }

    /** A gray 1-bit PNG of {@code width x height} zero pixels: megabytes of pixels deflated into kilobytes. */
    static byte[] deeplyCompressedPng(int width, int height) {
        return TestImages.png(width, height, 1, 0, TestImages.zeroScanlines((width + 7) / 8, height));
    }

    /** A 16 x 16 RGB PNG whose IDAT is random bytes, not a zlib stream. */
    static byte[] pngWithRandomIdat() {
        byte[] data = new byte[300];
        new Random(3).nextBytes(data);
        return TestImages.png(16, 16, 8, 2, data);
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        assertNotNull(h, "no header " + name);
        return string(h.value());
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] b) {
        return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
    }
}
