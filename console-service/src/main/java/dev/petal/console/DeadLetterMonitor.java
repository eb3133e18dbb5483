package dev.petal.console;

import dev.petal.common.records.Headers;
import dev.petal.common.records.HeaderValues;
import dev.petal.common.records.Topics;
import dev.petal.common.records.UntrustedText;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The dead-letter view, read from {@code petal.dlq} itself from its beginning (outside any group): counts by error
 * class, in all and per minute over the last hour (by each record's timestamp), and the latest samples with their
 * reason and where they came from. Every text in a dead letter is the sender's, so each goes through
 * {@link UntrustedText} before a page shows it (and the page sets it as text, never as markup).
 */
@ApplicationScoped
public class DeadLetterMonitor extends TopicMonitor {
    private static final int SAMPLES = 50;
    private static final int MINUTES = 60;

    private final ConsoleClients clients;

    // Guarded by this.
    private final Map<String, Long> counts = new TreeMap<>();
    private final TreeMap<Long, Map<String, Long>> perMinute = new TreeMap<>();
    private final Deque<Map<String, Object>> samples = new ArrayDeque<>();
    private long total;
    private String problem;

    public DeadLetterMonitor(ConsoleClients clients) {
        this.clients = clients;
    }

    void start(@Observes StartupEvent event) {
        startThread();
    }

    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        stopThread();
    }

    @Override
    protected String threadName() {
        return "petal-console-dead-letters";
    }

    @Override
    protected void session() throws Exception {
        try (KafkaConsumer<byte[], byte[]> consumer = clients.kafka().reader(Map.of(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"))) {
            Set<TopicPartition> assigned = Set.of();
            long nextCheck = 0;
            while (running()) {
                if (System.currentTimeMillis() >= nextCheck) {
                    nextCheck = System.currentTimeMillis() + 5000;
                    assigned = follow(consumer, Topics.DLQ, assigned, true);
                }
                if (assigned.isEmpty()) {
                    Thread.sleep(1000);
                    continue;
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    add(record);
                }
                problem(null);
            }
        }
    }

    @Override
    protected synchronized void problem(String problem) {
        this.problem = problem;
    }

    private void add(ConsumerRecord<byte[], byte[]> record) {
        String errorClass = UntrustedText.oneLine(orDash(HeaderValues.text(record, Headers.ERROR_CLASS)), 64);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("errorClass", errorClass);
        s.put("reason", UntrustedText.oneLine(orDash(HeaderValues.text(record, Headers.ERROR_REASON)), 300));
        s.put("sourceTopic", UntrustedText.oneLine(orDash(HeaderValues.text(record, Headers.SOURCE_TOPIC)), 80));
        s.put("sourcePartition", UntrustedText.oneLine(orDash(HeaderValues.text(record, Headers.SOURCE_PARTITION)), 12));
        s.put("sourceOffset", UntrustedText.oneLine(orDash(HeaderValues.text(record, Headers.SOURCE_OFFSET)), 24));
        s.put("key", record.key() == null ? null : UntrustedText.oneLine(new String(record.key(), StandardCharsets.UTF_8), 80));
        s.put("bytes", record.value() == null ? 0 : record.value().length);
        s.put("partition", record.partition());
        s.put("offset", record.offset());
        s.put("at", Instant.ofEpochMilli(record.timestamp()).toString());
        long minute = record.timestamp() / 60_000;
        synchronized (this) {
            total++;
            counts.merge(errorClass, 1L, Long::sum);
            perMinute.computeIfAbsent(minute, m -> new TreeMap<>()).merge(errorClass, 1L, Long::sum);
            while (perMinute.size() > MINUTES * 4) {
                perMinute.pollFirstEntry();
            }
            samples.addFirst(s);
            while (samples.size() > SAMPLES) {
                samples.removeLast();
            }
        }
    }

    private static String orDash(String value) {
        return value == null ? "-" : value;
    }

    /** Counts, the last hour per minute (oldest first, every minute present), and the latest samples. */
    public synchronized Map<String, Object> snapshot() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("total", total);
        s.put("counts", new TreeMap<>(counts));
        long now = System.currentTimeMillis() / 60_000;
        List<Map<String, Object>> minutes = new ArrayList<>();
        for (long m = now - MINUTES + 1; m <= now; m++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("minute", Instant.ofEpochMilli(m * 60_000).toString());
            row.put("counts", perMinute.getOrDefault(m, Map.of()));
            minutes.add(row);
        }
        s.put("perMinute", minutes);
        s.put("samples", List.copyOf(samples));
        s.put("problem", problem);
        return s;
    }
}
