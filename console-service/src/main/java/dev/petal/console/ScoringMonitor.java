package dev.petal.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.records.Topics;
import dev.petal.common.records.UntrustedText;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;

/**
 * The live scoring view, from Kafka and from inference's own metrics, never from logs: predictions read from
 * {@code petal.predictions} as they are published (outside any group; images/s, latency p50/p99 from each prediction's
 * {@code latencyMs}, the version that scored each partition, the latest predictions), the scoring group's consumer lag
 * per partition of {@code petal.images} and its members (Kafka's admin API), and per replica the version it serves,
 * its inputs/s and batch sizes ({@code petal_inference_*} on each replica's {@code /q/metrics}).
 */
@ApplicationScoped
public class ScoringMonitor extends TopicMonitor {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int RECENT = 12;
    private static final int SERIES_SECONDS = 120;
    private static final long LATENCY_WINDOW_MS = 60_000;

    private final ConsoleClients clients;
    private final ConsoleSettings settings;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    // Guarded by this.
    private long total;
    private final long[] perSecond = new long[SERIES_SECONDS];
    private long currentSecond;
    private final Deque<double[]> latencies = new ArrayDeque<>();
    private final Deque<Map<String, Object>> recent = new ArrayDeque<>();
    private final Map<Integer, String> versionByPartition = new TreeMap<>();
    private Map<String, Object> lag = Map.of();
    private List<Map<String, Object>> members = List.of();
    private List<Map<String, Object>> replicas = List.of();
    private final Map<String, double[]> previousScrape = new HashMap<>();
    private String kafkaProblem;

    public ScoringMonitor(ConsoleClients clients, ConsoleSettings settings) {
        this.clients = clients;
        this.settings = settings;
    }

    void start(@Observes StartupEvent event) {
        startThread();
    }

    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        stopThread();
    }

    @Override
    protected String threadName() {
        return "petal-console-scoring";
    }

    @Override
    protected void session() throws Exception {
        try (KafkaConsumer<byte[], byte[]> consumer = clients.kafka().reader(Map.of(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false,
                     ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted"));
             Admin admin = clients.kafka().admin(Duration.ofSeconds(3))) {
            Set<TopicPartition> assigned = Set.of();
            long nextSlow = 0;
            while (running()) {
                long now = System.currentTimeMillis();
                if (now >= nextSlow) {
                    nextSlow = now + 2000;
                    // new partitions of petal.predictions are read from their end: what is scored from now on
                    assigned = follow(consumer, Topics.PREDICTIONS, assigned, false);
                    readLag(admin);
                    scrapeReplicas();
                }
                if (assigned.isEmpty()) {
                    tick(System.currentTimeMillis());
                    Thread.sleep(500);
                    continue;
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(250))) {
                    prediction(record);
                }
                tick(System.currentTimeMillis());
            }
        }
    }

    @Override
    protected synchronized void problem(String problem) {
        kafkaProblem = problem;
    }

    private void prediction(ConsumerRecord<byte[], byte[]> record) {
        JsonNode p;
        try {
            p = JSON.readTree(record.value());
        } catch (Exception e) {
            return;
        }
        if (p == null || !p.isObject()) {
            return;
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", UntrustedText.oneLine(p.path("id").asText(""), 80));
        row.put("label", UntrustedText.oneLine(p.path("label").asText(""), 80));
        row.put("score", p.path("score").asDouble());
        row.put("version", UntrustedText.oneLine(p.path("model").path("version").asText(""), 80));
        String topic = p.path("source").path("topic").asText("");
        int partition = p.path("source").path("partition").asInt(-1);
        row.put("sourceTopic", UntrustedText.oneLine(topic, 80));
        row.put("partition", partition);
        row.put("offset", p.path("source").path("offset").asLong(-1));
        row.put("latencyMs", p.path("latencyMs").asDouble());
        row.put("at", Instant.ofEpochMilli(record.timestamp()).toString());
        synchronized (this) {
            total++;
            tick(System.currentTimeMillis());
            perSecond[(int) (currentSecond % SERIES_SECONDS)]++;
            latencies.addLast(new double[] {System.currentTimeMillis(), p.path("latencyMs").asDouble()});
            recent.addFirst(row);
            while (recent.size() > RECENT) {
                recent.removeLast();
            }
            if (partition >= 0 && Topics.IMAGES.equals(topic)) {
                versionByPartition.put(partition, (String) row.get("version"));
            }
        }
    }

    /** Moves the per-second series to {@code nowMillis}, zeroing the seconds that passed without predictions. */
    private synchronized void tick(long nowMillis) {
        long second = nowMillis / 1000;
        if (currentSecond == 0) {
            currentSecond = second;
        }
        while (currentSecond < second) {
            currentSecond++;
            perSecond[(int) (currentSecond % SERIES_SECONDS)] = 0;
        }
        while (!latencies.isEmpty() && latencies.peekFirst()[0] < nowMillis - LATENCY_WINDOW_MS) {
            latencies.removeFirst();
        }
    }

    private void readLag(Admin admin) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed;
            try {
                committed = admin.listConsumerGroupOffsets(settings.inferenceGroup()).partitionsToOffsetAndMetadata().get(3, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                    throw e;
                }
                committed = Map.of(); // nothing scored yet: every record is lag
            }
            List<Integer> partitions = admin.describeTopics(List.of(Topics.IMAGES)).allTopicNames().get(3, TimeUnit.SECONDS)
                    .get(Topics.IMAGES).partitions().stream().map(p -> p.partition()).toList();
            Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
            partitions.forEach(p -> ask.put(new TopicPartition(Topics.IMAGES, p), OffsetSpec.latest()));
            var ends = admin.listOffsets(ask).all().get(3, TimeUnit.SECONDS);
            Map<String, Object> byPartition = new TreeMap<>(NUMERIC);
            long totalLag = 0;
            for (int p : partitions) {
                TopicPartition tp = new TopicPartition(Topics.IMAGES, p);
                long end = ends.get(tp).offset();
                OffsetAndMetadata c = committed.get(tp);
                long position = c == null ? 0 : c.offset();
                long lagHere = Math.max(0, end - position);
                totalLag += lagHere;
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("end", end);
                row.put("committed", c == null ? null : c.offset());
                row.put("lag", lagHere);
                byPartition.put(Integer.toString(p), row);
            }
            List<Map<String, Object>> group = new ArrayList<>();
            ConsumerGroupDescription description;
            try {
                description = admin.describeConsumerGroups(List.of(settings.inferenceGroup())).all()
                        .get(3, TimeUnit.SECONDS).get(settings.inferenceGroup());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                    throw e;
                }
                description = null;
            }
            if (description != null) {
                for (MemberDescription member : description.members()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("clientId", UntrustedText.oneLine(member.clientId(), 120));
                    m.put("host", UntrustedText.oneLine(member.host(), 120));
                    List<Integer> mine = member.assignment().topicPartitions().stream()
                            .filter(tp -> tp.topic().equals(Topics.IMAGES)).map(TopicPartition::partition).sorted().toList();
                    m.put("partitions", mine);
                    group.add(m);
                }
            }
            Map<String, Object> lagNow = new LinkedHashMap<>();
            lagNow.put("group", settings.inferenceGroup());
            lagNow.put("total", totalLag);
            lagNow.put("partitions", byPartition);
            synchronized (this) {
                lag = lagNow;
                members = group;
                kafkaProblem = null;
            }
        } catch (Exception e) {
            synchronized (this) {
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                kafkaProblem = "consumer lag: " + UntrustedText.oneLine(cause.getClass().getSimpleName() + ": " + cause.getMessage(), 200);
            }
        }
    }

    private static final java.util.Comparator<String> NUMERIC = java.util.Comparator.comparingInt(Integer::parseInt);

    /** Every replica's metrics: each URL's host may stand for several addresses (a headless Service). */
    private void scrapeReplicas() {
        List<Map<String, Object>> found = new ArrayList<>();
        for (String url : settings.inferenceMetricsUrls()) {
            URI uri = URI.create(url.trim());
            List<String> addresses;
            try {
                addresses = Arrays.stream(InetAddress.getAllByName(uri.getHost())).map(InetAddress::getHostAddress).distinct().toList();
            } catch (Exception e) {
                addresses = List.of(uri.getHost());
            }
            for (String address : addresses) {
                String host = address.contains(":") ? "[" + address + "]" : address;
                URI target = URI.create(uri.getScheme() + "://" + host + ":" + uri.getPort() + uri.getPath());
                found.add(scrape(target, addresses.size() > 1 ? address : uri.getHost() + ":" + uri.getPort()));
            }
        }
        synchronized (this) {
            replicas = found;
        }
    }

    private Map<String, Object> scrape(URI target, String name) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("replica", name);
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(2)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                r.put("up", false);
                r.put("problem", "HTTP " + response.statusCode());
                return r;
            }
            List<PrometheusText.Sample> samples = PrometheusText.parse(response.body());
            String version = samples.stream().filter(s -> s.name().equals("petal_inference_model_loaded") && s.value() == 1.0)
                    .map(s -> s.labels().get("version")).findFirst().orElse(null);
            double inputs = PrometheusText.sum(samples, "petal_inference_inputs_total");
            double predictions = PrometheusText.sum(samples, "petal_inference_predictions_total");
            double batchSum = PrometheusText.sum(samples, "petal_inference_batch_size_sum");
            double batchCount = PrometheusText.sum(samples, "petal_inference_batch_size_count");
            double deadLetters = PrometheusText.sum(samples, "petal_inference_dead_letters_total");
            double now = System.nanoTime() / 1e9;
            double[] before;
            synchronized (this) {
                before = previousScrape.put(target.toString(), new double[] {now, inputs, batchSum, batchCount});
            }
            r.put("up", true);
            r.put("version", version == null ? null : UntrustedText.oneLine(version, 80));
            r.put("inputs", inputs);
            r.put("predictions", predictions);
            r.put("deadLetters", deadLetters);
            r.put("batches", batchCount);
            r.put("meanBatchSize", batchCount > 0 ? batchSum / batchCount : null);
            if (before != null && now > before[0]) {
                r.put("inputsPerSecond", Math.max(0, (inputs - before[1]) / (now - before[0])));
                double batches = batchCount - before[3];
                r.put("recentBatchSize", batches > 0 ? (batchSum - before[2]) / batches : null);
            }
        } catch (Exception e) {
            r.put("up", false);
            r.put("problem", "metrics do not answer");
        }
        return r;
    }

    /** Each replica's metrics as last scraped. */
    public synchronized List<Map<String, Object>> replicas() {
        return replicas;
    }

    /** What the scoring page shows, as JSON-ready values. */
    public synchronized Map<String, Object> snapshot() {
        tick(System.currentTimeMillis());
        Map<String, Object> s = new LinkedHashMap<>();
        long window = 0;
        List<Long> series = new ArrayList<>(SERIES_SECONDS);
        for (int i = SERIES_SECONDS - 1; i >= 0; i--) {
            long n = perSecond[(int) ((currentSecond - i) % SERIES_SECONDS + SERIES_SECONDS) % SERIES_SECONDS];
            series.add(n);
        }
        // The last 10 complete seconds.
        for (int i = SERIES_SECONDS - 11; i < SERIES_SECONDS - 1; i++) {
            window += series.get(i);
        }
        s.put("predictionsSeen", total);
        s.put("imagesPerSecond", window / 10.0);
        s.put("perSecond", series);
        double[] lat = latencies.stream().mapToDouble(l -> l[1]).sorted().toArray();
        s.put("latencyP50Ms", percentile(lat, 0.50));
        s.put("latencyP99Ms", percentile(lat, 0.99));
        s.put("latencySamples", lat.length);
        s.put("recent", List.copyOf(recent));
        s.put("versionByPartition", new TreeMap<>(versionByPartition));
        s.put("lag", lag);
        s.put("members", members);
        s.put("replicas", replicas);
        s.put("problem", kafkaProblem);
        return s;
    }

    static Double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return null;
        }
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
