package dev.petal.ingest.api;

import dev.petal.common.records.Topics;
import dev.petal.ingest.ImageCheck;
import dev.petal.ingest.ImagePublisher;
import dev.petal.ingest.IngestSettings;
import dev.petal.ingest.Ingestion;
import dev.petal.ingest.TopicProvisioner;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The serve mode's validator and publishers. The topics are ensured and the validator made on the first upload
 * (commands never pay for it); each upload then gets a publisher of its own ({@link #publisher()}), over the one
 * {@code published-images} channel: its acknowledgements and its failure are that request's only. (One publisher for
 * every request kept the first failed send for good: every later upload answered 500 while the service stayed live,
 * and each request's flush waited for the others' records too.)
 */
@ApplicationScoped
public class UploadPublisher {
    private final Ingestion ingestion;
    private IngestSettings settings;
    private ImageCheck check;

    public UploadPublisher(Ingestion ingestion) {
        this.ingestion = ingestion;
    }

    private synchronized IngestSettings ready() {
        if (settings == null) {
            IngestSettings s = ingestion.settings();
            TopicProvisioner.ensure(s, ingestion.kafka(), Topics.IMAGES, Topics.DLQ);
            check = ingestion.imageCheck();
            settings = s;
        }
        return settings;
    }

    /** A publisher for one request; the caller closes it. */
    ImagePublisher publisher() {
        return ingestion.publisher(ready());
    }

    synchronized ImageCheck check() {
        ready();
        return check;
    }
}
