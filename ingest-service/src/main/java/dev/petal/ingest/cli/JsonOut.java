package dev.petal.ingest.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.petal.ingest.DatasetReport;
import dev.petal.ingest.IngestSummary;
import java.io.PrintStream;

/** Command output: one JSON object per line on stdout (logs and progress go to stderr). */
final class JsonOut {
    static final ObjectMapper JSON = new ObjectMapper();
    private final PrintStream out;

    JsonOut(PrintStream out) {
        this.out = out;
    }

    ObjectNode event(String name) {
        return JSON.createObjectNode().put("event", name);
    }

    void print(ObjectNode node) {
        try {
            out.println(JSON.writeValueAsString(node));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    void rejected(DatasetReport.Rejected r) {
        print(event("rejected").put("source", r.source()).put("errorClass", r.rejection().errorClass())
                .put("reason", r.rejection().reason()));
    }

    void summary(IngestSummary s) {
        print(event("summary").put("published", s.published()).put("duplicates", s.duplicates())
                .put("rejected", s.rejected()).put("bytes", s.bytes())
                .put("seconds", Math.round(s.seconds() * 1000) / 1000.0)
                .put("imagesPerSecond", Math.round(s.imagesPerSecond() * 10) / 10.0)
                .put("megabytesPerSecond", Math.round(s.megabytesPerSecond() * 100) / 100.0));
    }
}
