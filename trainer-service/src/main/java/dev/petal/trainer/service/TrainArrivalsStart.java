package dev.petal.trainer.service;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Collection;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The {@code train-arrivals} channel's rebalance listener ({@code consumer-rebalance-listener.name}): each assigned
 * partition of petal.train is read from where the latest version's data ended, so auto-retrain counts only the
 * images no version has seen.
 */
@ApplicationScoped
@Identifier(TrainArrivalsStart.NAME)
public class TrainArrivalsStart implements KafkaConsumerRebalanceListener {
    static final String NAME = "petal-trainer-arrivals";

    private final AutoRetrain autoRetrain;

    public TrainArrivalsStart(AutoRetrain autoRetrain) {
        this.autoRetrain = autoRetrain;
    }

    @Override
    public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            consumer.seek(tp, autoRetrain.startOf(tp.partition()));
        }
    }
}
