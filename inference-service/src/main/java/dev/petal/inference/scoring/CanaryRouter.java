package dev.petal.inference.scoring;

import dev.petal.inference.InferenceSettings;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.utils.Utils;

/**
 * Which route an input takes during a canary ({@code petal.inference.canary-percent} = P &gt; 0): its key's bytes (its
 * {@code partition:offset} when it has none, as its prediction's key) hashed with murmur2, as Kafka's partitioner does,
 * made positive, mod 100: buckets below P go to {@code challenger}, the rest to {@code champion}. The same key always
 * takes the same route while P and the aliases stay put. P drops to 0 when the canary stops ({@link CanaryMonitor}).
 */
@ApplicationScoped
public class CanaryRouter {
    public static final String CANARY = "canary";
    public static final String CHAMPION = "champion";

    private volatile int percent;

    public CanaryRouter(InferenceSettings settings) {
        int p = settings.canaryPercent();
        if (p < 0 || p > 100) {
            throw new IllegalArgumentException("petal.inference.canary-percent must be 0 to 100, was " + p);
        }
        this.percent = "shadow".equals(settings.mode()) ? 0 : p;
    }

    /** The share of keys routed to the challenger now, 0 to 100. */
    public int percent() {
        return percent;
    }

    /** Ends the canary: every input goes to the champion from the next batch on. */
    public void stop() {
        percent = 0;
    }

    /** The key's bucket, 0 to 99: murmur2 of its bytes, positive, mod 100. */
    public static int bucket(byte[] key) {
        return Utils.toPositive(Utils.murmur2(key)) % 100;
    }

    public boolean toChallenger(ConsumerRecord<byte[], byte[]> in) {
        int p = percent;
        return p > 0 && bucket(OutputRecords.outputKeyBytes(in)) < p;
    }
}
