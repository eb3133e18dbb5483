package dev.petal.inference;

import dev.petal.common.auth.Roles;
import dev.petal.localstack.auth.TestTokens;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One inference replica: the service itself, running {@code serve} in a process of its own
 * ({@link ReplicaProcess}), seen from outside as an operator sees it: health on the management port, metrics on
 * {@code /q/metrics}, the served model on {@code GET /model}. Several replicas run side by side, each with its own
 * Kafka clients, model and metrics.
 */
final class Replica implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern STOPPED = Pattern.compile("stopping after ([0-9]+) predictions");
    private static final Pattern PREDICTIONS = Pattern.compile("(?m)^petal_inference_predictions_total(?:\\{[^}]*})? ([0-9.eE+]+)$");

    final Map<String, String> config;
    /** The model this replica serves, as {@code GET /model} says. */
    final ServedModel holder = new ServedModel();
    private ReplicaProcess process;

    Replica(Map<String, String> config) {
        this.config = Map.copyOf(config);
    }

    /**
     * The configuration of a replica of {@code model} reading {@code input} in {@code group}: the stack's
     * addresses, CPU, decoding ahead, a 1 s latest-poll, and (so that a killed replica's partitions move within seconds,
     * not Kafka's default 45) a 6 s consumer session, the broker's minimum.
     */
    static Map<String, String> config(Map<String, String> stackConfig, String model, String group, String input,
                                      String output, String dlq, Map<String, String> more) {
        Map<String, String> c = new LinkedHashMap<>(stackConfig);
        c.put("petal.inference.model-name", model);
        c.put("petal.inference.group", group);
        c.put("petal.inference.input-topic", input);
        c.put("petal.inference.output-topic", output);
        c.put("petal.inference.dead-letter-topic", dlq);
        c.put("petal.inference.device", "cpu");
        c.put("petal.inference.poll-interval", "1s");
        c.put("petal.inference.decode-threads", "2");
        // The GPU default, so that kills, outages and takeovers meet two batches in flight; InferenceServiceTest runs the CPU default.
        c.put("petal.inference.decode-ahead", "true");
        c.put("kafka.session.timeout.ms", "6000");
        c.put("kafka.heartbeat.interval.ms", "1000");
        c.putAll(more);
        return c;
    }

    Replica start() throws IOException {
        process = ReplicaProcess.launch(config.get("petal.inference.group"), config);
        return this;
    }

    /** The clean stop of a scale-down or rolling update: SIGTERM; the batch in flight finishes and commits, the group is left. */
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.stop();
        }
    }

    /** Waits until this replica has a model and scores: ready, with its input channel subscribed. */
    Replica awaitConsuming(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!scoring()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("the replica did not start consuming within " + timeout + "; see " + process.log());
            }
            Thread.sleep(100);
        }
        return this;
    }

    /**
     * Predictions this replica has published (its petal_inference_predictions counter); once it has stopped, the count
     * its last log line gives.
     */
    double predictions() throws IOException {
        if (process.isAlive()) {
            Matcher m = PREDICTIONS.matcher(get(process.management() + "metrics").body());
            return m.find() ? Double.parseDouble(m.group(1)) : 0;
        }
        Matcher last = STOPPED.matcher(java.nio.file.Files.readString(process.log()));
        double count = 0;
        while (last.find()) {
            count = Double.parseDouble(last.group(1));
        }
        return count;
    }

    /** A meter's value from {@code /q/metrics} (the first series of that name), or NaN when it is not there. */
    double metric(String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*})? ([0-9.eE+-]+)$")
                .matcher(get(process.management() + "metrics").body());
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /** The replica's log so far. */
    String log() throws IOException {
        return java.nio.file.Files.readString(process.log());
    }

    boolean ready() {
        return get(process.management() + "health/ready").status() == 200;
    }

    /**
     * Waits for readiness to come back UP: after an outage the checks (the cluster probe, the connector's own) notice
     * the broker again at their own pace. Throws with the last readiness body when it does not within the timeout.
     */
    void awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Response ready = get(process.management() + "health/ready");
        while (ready.status() != 200) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not ready within " + timeout + ": " + ready.status() + " " + ready.body());
            }
            Thread.sleep(250);
            ready = get(process.management() + "health/ready");
        }
    }

    boolean live() {
        return get(process.management() + "health/live").status() == 200;
    }

    private boolean scoring() {
        Response ready = get(process.management() + "health/ready");
        if (ready.status() != 200) {
            return false;
        }
        try {
            for (var check : JSON.readTree(ready.body()).path("checks")) {
                if ("started".equals(check.path("data").path("scoring").asText())) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    @Override
    public void close() throws InterruptedException {
        try {
            stop();
        } finally {
            if (process != null) {
                process.close();
            }
        }
    }

    /** What {@code GET /model} says: the version being served. */
    final class ServedModel {
        Optional<String> version() {
            Response model = get(process.api() + "model", TestTokens.bearer(Roles.SCORER));
            if (model.status() != 200) {
                return Optional.empty();
            }
            try {
                return Optional.of(JSON.readTree(model.body()).path("version").asText());
            } catch (IOException e) {
                return Optional.empty();
            }
        }
    }

    record Response(int status, String body) {}

    private static Response get(String url) {
        return get(url, null);
    }

    private static Response get(String url, String authorization) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET();
            if (authorization != null) {
                request.header("Authorization", authorization);
            }
            HttpResponse<String> r = HTTP.send(request.build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body());
        } catch (IOException e) {
            return new Response(-1, "");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Response(-1, "");
        }
    }
}
