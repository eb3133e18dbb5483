package dev.petal.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.testing.TestImages;
import dev.petal.common.auth.Roles;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.localstack.LocalStack;
import dev.petal.localstack.LocalStackTestResource;
import dev.petal.localstack.auth.JwtTestResource;
import dev.petal.localstack.auth.TestTokens;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Serve mode: an HTTP upload ends as exactly one record, on petal.images or on petal.dlq with the reason. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
@WithTestResource(JwtTestResource.class)
class UploadEndpointTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TestHTTPResource("/images")
    URL images;

    /** Health is on the management interface (its own port), not the application port. */
    @TestHTTPResource(value = "health/ready", management = true)
    URL ready;

    @TestHTTPResource("/q/health/ready")
    URL readyOnTheApplicationPort;

    @Test
    void aGoodImageGoesToImagesAndGarbageToTheDeadLetterTopic() throws Exception {
        byte[] jpeg = TestImages.noiseJpeg(48, 11);
        HttpResponse<String> accepted = post("upload-good", jpeg);
        assertEquals(202, accepted.statusCode(), accepted.body());
        HttpResponse<String> rejected = post("upload-bad", "<html>not an image</html>".getBytes());
        assertEquals(422, rejected.statusCode(), rejected.body());
        assertTrue(rejected.body().contains("not-an-image"), rejected.body());

        String bootstrap = LocalStack.shared().bootstrapServers();
        List<ConsumerRecord<String, byte[]>> good = TopicReader.withKeys(TopicReader.readAll(bootstrap, Topics.IMAGES), Set.of("upload-good"));
        assertEquals(1, good.size());
        assertTrue(Arrays.equals(jpeg, good.get(0).value()), "bytes travel untouched");
        List<ConsumerRecord<String, byte[]>> bad = TopicReader.withKeys(TopicReader.readAll(bootstrap, Topics.DLQ), Set.of("upload-bad"));
        assertEquals(1, bad.size());
        assertEquals("not-an-image", TopicReader.header(bad.get(0), Headers.ERROR_CLASS));
    }

    @Test
    void readyWhenKafkaAnswers() throws Exception {
        HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(ready.toURI()).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode(), health.body());
        assertTrue(health.body().contains("\"kafka\""), health.body());
        assertTrue(ready.getPort() != images.getPort(), ready + " and " + images + " share a port");
        HttpResponse<String> notHere = HTTP.send(HttpRequest.newBuilder(readyOnTheApplicationPort.toURI()).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, notHere.statusCode(), "the application port serves only the API: " + notHere.body());
    }

    /** The published-images producer's own metrics are on the management port with the service's. */
    @Test
    void kafkaClientMetricsAreOnTheManagementPort() throws Exception {
        assertEquals(202, post("upload-metrics", TestImages.noiseJpeg(48, 12)).statusCode());
        URI metrics = URI.create(ready.toString().replace("health/ready", "metrics"));
        String body = HTTP.send(HttpRequest.newBuilder(metrics).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(body.contains("kafka_producer_record_send_total"), "records sent");
        assertTrue(body.contains("kafka_producer_record_send_rate"), "records sent per second");
    }

    /**
     * A send the broker refuses fails that upload only (issue #27): {@code petal.images} is made to refuse every record
     * (its {@code max.message.bytes} set to 64), an upload answers 503 with the reason; with the limit gone, the next
     * upload answers 202 and readiness is UP. (With one publisher for every request, the first failure stayed: every
     * later upload answered 500 while the service stayed live.) The refused image is not on the topic.
     */
    @Test
    void aSendTheBrokerRefusesFailsThatUploadOnly() throws Exception {
        assertEquals(202, post("before-refusal", TestImages.noiseJpeg(48, 13)).statusCode());
        String bootstrap = LocalStack.shared().bootstrapServers();
        ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, Topics.IMAGES);
        String refusedId = null;
        HttpResponse<String> refused = null;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", "64"),
                    AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            try {
                // The broker applies a topic's new limit within moments: upload until it refuses one.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                for (int i = 0; System.nanoTime() < deadline; i++) {
                    refusedId = "refused-" + i;
                    refused = post(refusedId, TestImages.noiseJpeg(48, 20 + i));
                    if (refused.statusCode() != 202) {
                        break;
                    }
                    Thread.sleep(200);
                }
            } finally {
                admin.incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", ""),
                        AlterConfigOp.OpType.DELETE)))).all().get(30, TimeUnit.SECONDS);
            }
        }
        assertEquals(503, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("did not accept"), refused.body());
        HttpResponse<String> after = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (int i = 0; System.nanoTime() < deadline; i++) { // the limit's removal, too, takes a moment to apply
            after = post("after-refusal-" + i, TestImages.noiseJpeg(48, 60 + i));
            if (after.statusCode() == 202) {
                break;
            }
            assertEquals(503, after.statusCode(), "refused again while the limit is still applied, never 500: " + after.body());
            Thread.sleep(200);
        }
        assertEquals(202, after.statusCode(), "the next upload is tried afresh: " + after.body());
        assertEquals(200, HTTP.send(HttpRequest.newBuilder(ready.toURI()).GET().build(), HttpResponse.BodyHandlers.ofString())
                .statusCode(), "ready");
        List<ConsumerRecord<String, byte[]>> onTopic = TopicReader.withKeys(TopicReader.readAll(bootstrap, Topics.IMAGES),
                Set.of(refusedId));
        assertEquals(List.of(), onTopic, "the refused image is not on petal.images");
    }

    private HttpResponse<String> post(String id, byte[] body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(images + "?id=" + id))
                .header("Content-Type", "application/octet-stream")
                .header("Authorization", TestTokens.bearer(Roles.INGESTER))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
