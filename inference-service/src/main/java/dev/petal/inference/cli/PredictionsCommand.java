package dev.petal.inference.cli;

import dev.petal.common.records.KafkaClients;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code petal predictions}: prints prediction JSON lines from petal.predictions. By default every
 * prediction there now, then exits; {@code --follow} keeps printing new ones (from now on, or from the
 * start with {@code --from-beginning}). Reads outside any consumer group: it moves no one's offsets.
 */
@Command(name = "predictions", mixinStandardHelpOptions = true,
        description = "Print predictions (JSON lines) from petal.predictions.")
public class PredictionsCommand implements Callable<Integer> {
    @Option(names = {"-f", "--follow"}, description = "Keep printing new predictions until stopped.")
    boolean follow;

    @Option(names = "--from-beginning", description = "With --follow: start from the oldest prediction, not from now.")
    boolean fromBeginning;

    @Option(names = {"-n", "--count"}, defaultValue = "0", description = "Stop after this many (0: no limit).")
    long count;

    @Option(names = "--topic", defaultValue = "petal.predictions", description = "Topic to read (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--broker-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "How long to wait for the broker before giving up (default: ${DEFAULT-VALUE}).")
    int brokerTimeout;

    private final KafkaClients kafka;

    public PredictionsCommand(KafkaClients kafka) {
        this.kafka = kafka;
    }

    @Override
    public Integer call() {
        long printed = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = kafka.reader()) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(brokerTimeout)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            boolean fromStart = !follow || fromBeginning;
            if (fromStart) {
                consumer.seekToBeginning(partitions);
            } else {
                consumer.seekToEnd(partitions);
            }
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (count == 0 || printed < count) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    System.out.println(new String(r.value(), StandardCharsets.UTF_8));
                    if (++printed == count) {
                        break;
                    }
                }
                System.out.flush();
                if (!follow && caughtUp(consumer, end)) {
                    break;
                }
            }
        }
        return 0;
    }

    private static boolean caughtUp(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
