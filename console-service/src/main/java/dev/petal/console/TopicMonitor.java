package dev.petal.console;

import dev.petal.common.records.UntrustedText;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * A console view fed by one background thread that reads a topic by assignment (outside any group): the thread's
 * life, and a failed session (the broker away, a topic missing) shown as the view's problem and retried every 2 s.
 */
abstract class TopicMonitor {
    private static final Logger LOG = Logger.getLogger(TopicMonitor.class);

    private volatile boolean running;
    private Thread thread;

    /** The reading thread's name, for thread dumps and the debug log. */
    protected abstract String threadName();

    /** Reads until {@link #running()} turns false; any exception ends the session, which starts again after a pause. */
    protected abstract void session() throws Exception;

    /** What the page shows while the view cannot read Kafka; null once it reads again. */
    protected abstract void problem(String problem);

    protected final boolean running() {
        return running;
    }

    final void startThread() {
        running = true;
        thread = new Thread(this::loop, threadName());
        thread.setDaemon(true);
        thread.start();
    }

    /** Lets the loop end at its next poll (at most half a second): interrupting a Kafka client mid-close logs errors. */
    final void stopThread() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(3000);
        }
    }

    private void loop() {
        while (running) {
            try {
                session();
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                problem("Kafka: " + UntrustedText.oneLine(String.valueOf(e.getMessage()), 200));
                LOG.debugf("%s: %s", threadName(), e);
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    /**
     * Assigns every partition of {@code topic} when their number changed since {@code assigned}; the new ones are read
     * from their beginning or, with {@code fromBeginning} false, from their end. Returns what is assigned now.
     */
    static Set<TopicPartition> follow(KafkaConsumer<?, ?> consumer, String topic, Set<TopicPartition> assigned, boolean fromBeginning) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(3));
        if (infos == null || infos.size() == assigned.size()) {
            return assigned;
        }
        List<TopicPartition> all = infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        List<TopicPartition> added = all.stream().filter(tp -> !assigned.contains(tp)).toList();
        consumer.assign(all);
        if (fromBeginning) {
            consumer.seekToBeginning(added);
        } else {
            consumer.seekToEnd(added);
        }
        return Set.copyOf(all);
    }
}
