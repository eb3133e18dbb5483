package dev.petal.ingest.api;

import dev.petal.common.records.Topics;
import dev.petal.ingest.ImageCheck;
import dev.petal.ingest.ImagePublisher;
import dev.petal.ingest.IngestSettings;
import dev.petal.ingest.TopicProvisioner;
import dev.petal.ingest.Ingestion;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

/** The serve mode's producer and validator, created on the first upload (commands never pay for it). */
@ApplicationScoped
public class UploadPublisher {
    private final Ingestion ingestion;
    private ImagePublisher publisher;
    private ImageCheck check;

    public UploadPublisher(Ingestion ingestion) {
        this.ingestion = ingestion;
    }

    synchronized ImagePublisher publisher() {
        if (publisher == null) {
            IngestSettings settings = ingestion.settings();
            TopicProvisioner.ensure(settings, ingestion.kafka(), Topics.IMAGES, Topics.DLQ);
            check = ingestion.imageCheck();
            publisher = ingestion.publisher(settings);
        }
        return publisher;
    }

    synchronized ImageCheck check() {
        publisher();
        return check;
    }

    @PreDestroy
    synchronized void close() {
        if (publisher != null) {
            publisher.close();
        }
    }
}
