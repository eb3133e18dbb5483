package dev.petal.localstack.pipeline;

import dev.petal.common.records.ValidSplit;
import dev.petal.common.inference.Prediction;
import dev.petal.common.records.HeaderValues;
import dev.petal.common.records.Headers;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.Topics;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Sends images to petal.images as any client would, and collects exactly one answer per image
 * from petal.predictions (or petal.dlq), matched by record key.
 */
final class ScoringRound {
    /** What came back for each key: a prediction, or a dead-letter reason. */
    record Answers(Map<String, Prediction> predictions, Map<String, String> deadLetters, int duplicates) {
        int answered() {
            return predictions.size() + deadLetters.size();
        }
    }

    private final KafkaClients kafka;
    private final PrintStream out;

    ScoringRound(KafkaClients kafka, PrintStream out) {
        this.kafka = kafka;
        this.out = out;
    }

    Answers score(Map<String, ValidSplit.Image> byKey, Duration timeout) throws InterruptedException, ExecutionException {
        try (KafkaConsumer<String, String> answers = consumer()) {
            List<TopicPartition> partitions = new java.util.ArrayList<>();
            for (String topic : List.of(Topics.PREDICTIONS, Topics.DLQ)) {
                answers.partitionsFor(topic, Duration.ofSeconds(30))
                        .forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
            }
            answers.assign(partitions);
            answers.seekToEnd(partitions);
            partitions.forEach(answers::position); // fix the starting point before anything is sent
            publish(byKey);
            return collect(answers, byKey, timeout);
        }
    }

    private void publish(Map<String, ValidSplit.Image> byKey) throws InterruptedException, ExecutionException {
        try (KafkaProducer<byte[], byte[]> producer = kafka.producer()) {
            List<Future<RecordMetadata>> sent = new java.util.ArrayList<>();
            for (Map.Entry<String, ValidSplit.Image> e : byKey.entrySet()) {
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(Topics.IMAGES,
                        e.getKey().getBytes(StandardCharsets.UTF_8), e.getValue().bytes());
                if (e.getValue().imageRef() != null) {
                    record.headers().add(Headers.IMAGE_REF, e.getValue().imageRef().getBytes(StandardCharsets.UTF_8));
                }
                sent.add(producer.send(record));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        }
        out.printf("demo: sent %d images to %s%n", byKey.size(), Topics.IMAGES);
    }

    private Answers collect(KafkaConsumer<String, String> consumer, Map<String, ValidSplit.Image> byKey, Duration timeout) {
        Map<String, Prediction> predictions = new LinkedHashMap<>();
        Map<String, String> deadLetters = new HashMap<>();
        int duplicates = 0;
        long deadline = System.nanoTime() + timeout.toNanos();
        long lastReport = System.nanoTime();
        while (predictions.size() + deadLetters.size() < byKey.size() && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                if (record.key() == null || !byKey.containsKey(record.key())) {
                    continue;
                }
                boolean seen = predictions.containsKey(record.key()) || deadLetters.containsKey(record.key());
                if (seen) {
                    duplicates++;
                } else if (Topics.DLQ.equals(record.topic())) {
                    deadLetters.put(record.key(), HeaderValues.text(record, Headers.ERROR_CLASS) + ": "
                            + HeaderValues.text(record, Headers.ERROR_REASON));
                } else {
                    predictions.put(record.key(), Prediction.fromJson(record.value()));
                }
            }
            if (System.nanoTime() - lastReport > 5_000_000_000L) {
                out.printf("demo: %d/%d answered%n", predictions.size() + deadLetters.size(), byKey.size());
                lastReport = System.nanoTime();
            }
        }
        return new Answers(predictions, deadLetters, duplicates);
    }

    private KafkaConsumer<String, String> consumer() {
        return kafka.consumer(java.util.Map.of(), new StringDeserializer(), new StringDeserializer());
    }
}
