package dev.petal.ingest;

import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.records.KafkaClients;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Publishes image files to {@code petal.images} for scoring. The key is the file's path relative to
 * the argument it was found under (its name, for a file argument) or a given id. A file that is not
 * a valid image goes to {@code petal.dlq} instead, bytes untouched, with error-class, error-reason
 * and source headers; the run goes on.
 */
public final class ImagesIngest {

    /** A file to send and its record key. */
    public record Input(Path path, String key) {}

    public record Report(List<DatasetReport.Rejected> rejections, IngestSummary summary) {}

    private final IngestSettings settings;
    private final KafkaClients kafka;
    private final ImageCheck check;
    private final Supplier<ImagePublisher> publishers;

    public ImagesIngest(IngestSettings settings, KafkaClients kafka, ImageCheck check, Supplier<ImagePublisher> publishers) {
        this.settings = settings;
        this.kafka = kafka;
        this.check = check;
        this.publishers = publishers;
    }

    /**
     * Expands files and directories (recursively, hidden files skipped, sorted) into inputs.
     * {@code id}, when given, is the key of the single file argument.
     */
    public static List<Input> expand(List<Path> arguments, String id) {
        if (id != null && (arguments.size() != 1 || !Files.isRegularFile(arguments.get(0)))) {
            throw new IllegalArgumentException("--id needs exactly one file argument");
        }
        List<Input> inputs = new ArrayList<>();
        for (Path argument : arguments) {
            if (Files.isRegularFile(argument)) {
                inputs.add(new Input(argument, id != null ? id : argument.getFileName().toString()));
            } else if (Files.isDirectory(argument)) {
                try (Stream<Path> walk = Files.walk(argument)) {
                    walk.filter(Files::isRegularFile).sorted().forEach(path -> {
                        Path relative = argument.relativize(path);
                        if (!relative.toString().startsWith(".") && !relative.toString().contains("/.")) {
                            inputs.add(new Input(path, DatasetScanner.toSource(relative)));
                        }
                    });
                } catch (IOException | UncheckedIOException e) {
                    throw new IllegalArgumentException("cannot list " + argument + ": " + e.getMessage(), e);
                }
            } else {
                throw new IllegalArgumentException(argument + ": no such file or directory");
            }
        }
        return inputs;
    }

    public Report run(List<Input> inputs) {
        long start = System.nanoTime();
        TopicProvisioner.ensure(settings, kafka, Topics.IMAGES, Topics.DLQ);
        List<DatasetReport.Rejected> rejections = new ArrayList<>();
        long[] published = {0};
        long[] bytes = {0};
        int[] next = {0};
        try (ImagePublisher publisher = publishers.get();
             FileInspector inspector = new FileInspector(check, settings.threads());
             ProgressReporter progress = ProgressReporter.forConsole("publishing", inputs.size(), "images", settings.progressInterval())) {
            inspector.inspect(inputs.stream().map(Input::path).toList(), inspected -> {
                String key = inputs.get(next[0]++).key(); // results arrive in input order
                String source = inspected.path().toString();
                Map<String, String> headers = new LinkedHashMap<>();
                headers.put(Headers.SOURCE, source);
                byte[] value = inspected.bytes() == null ? new byte[0] : inspected.bytes();
                if (inspected.accepted()) {
                    headers.put(Headers.CONTENT_TYPE, inspected.facts().contentType());
                    headers.put(Headers.COLOR_MODEL, inspected.facts().colorModel());
                    publisher.send(Topics.IMAGES, key, value, inspected.sha256(), headers);
                    published[0]++;
                    bytes[0] += value.length;
                } else {
                    headers.put(Headers.ERROR_CLASS, inspected.rejection().errorClass());
                    headers.put(Headers.ERROR_REASON, inspected.rejection().reason());
                    publisher.send(Topics.DLQ, key, value, inspected.sha256(), headers);
                    rejections.add(new DatasetReport.Rejected(source, inspected.rejection()));
                }
                progress.advance(1);
            });
            publisher.flush();
        }
        IngestSummary summary = new IngestSummary(published[0], 0, rejections.size(), bytes[0], (System.nanoTime() - start) / 1e9);
        return new Report(List.copyOf(rejections), summary);
    }
}
