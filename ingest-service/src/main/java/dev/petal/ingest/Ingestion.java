package dev.petal.ingest;

import dev.petal.common.records.KafkaClients;
import dev.petal.common.storage.ObjectStore;
import dev.petal.service.config.ImageConfig;
import dev.petal.service.config.S3Config;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;

/**
 * Ingestion wired from the service's configuration: its settings ({@link IngestConfig}), Kafka clients, the
 * {@code published-images} channel, image checks and object storage. The commands and the upload endpoint start
 * their runs here.
 */
@ApplicationScoped
public class Ingestion {
    private final IngestConfig config;
    private final KafkaClients kafka;
    private final S3Config s3;
    private final ImageConfig images;
    private final MutinyEmitter<ProducerRecord<String, byte[]>> channel;
    private final int maxRecordsInFlight;

    public Ingestion(IngestConfig config, KafkaClients kafka, S3Config s3, ImageConfig images,
                     @Channel("published-images") MutinyEmitter<ProducerRecord<String, byte[]>> channel,
                     @ConfigProperty(name = "mp.messaging.outgoing.published-images.max-inflight-messages") int maxRecordsInFlight) {
        this.config = config;
        this.maxRecordsInFlight = maxRecordsInFlight;
        this.kafka = kafka;
        this.s3 = s3;
        this.images = images;
        this.channel = channel;
    }

    public IngestSettings settings() {
        return config.settings();
    }

    public KafkaClients kafka() {
        return kafka;
    }

    public ImageCheck imageCheck() {
        return new ImageCheck(images.limits());
    }

    /** A publisher for one run; it opens the object store only when a claim-check needs it. */
    public ImagePublisher publisher(IngestSettings settings) {
        return new ImagePublisher(settings, kafka.bootstrapServers(), channel, maxRecordsInFlight,
                () -> new ObjectStore(s3.settings()));
    }

    public DatasetIngest dataset(IngestSettings settings) {
        return new DatasetIngest(settings, kafka, imageCheck(), () -> publisher(settings));
    }

    public ImagesIngest images(IngestSettings settings) {
        return new ImagesIngest(settings, kafka, imageCheck(), () -> publisher(settings));
    }
}
