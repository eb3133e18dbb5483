package dev.petal.ingest.api;

import dev.petal.common.records.Topics;
import dev.petal.ingest.ImageCheck;
import dev.petal.ingest.ImagePublisher;
import dev.petal.ingest.IngestSettings;
import dev.petal.ingest.TopicProvisioner;
import dev.petal.ingest.cli.IngestConfig;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

/** The serve mode's producer and validator, created on the first upload (commands never pay for it). */
@ApplicationScoped
public class UploadPublisher {
    private IngestSettings settings;
    private ImagePublisher publisher;
    private ImageCheck check;

    synchronized ImagePublisher publisher() {
        if (publisher == null) {
            settings = IngestConfig.settings();
            TopicProvisioner.ensure(settings, Topics.IMAGES, Topics.DLQ);
            check = IngestConfig.imageCheck();
            publisher = new ImagePublisher(settings, IngestConfig.objectStore());
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
