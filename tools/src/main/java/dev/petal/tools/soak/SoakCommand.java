package dev.petal.tools.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.petal.common.cli.ModelOptions;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.records.Headers;
import dev.petal.common.records.Topics;
import dev.petal.common.records.KafkaClients;
import dev.petal.service.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./petal soak}: a running inference service (the process {@code ./petal up} started)
 * under a steady load for a long time, with a hot reload every so often; one JSON line at the end.
 *
 * <ol>
 *   <li>publishes a model version for the served model name (a fresh ResNet, labels from the
 *       class folders of {@code --images}) and waits until the service answers with it;</li>
 *   <li>sends images from {@code --images} to {@code petal.images} at {@code --rate} per second for
 *       {@code --minutes}, each under a unique key; every {@code --bad-every}th input is garbage bytes,
 *       which must come back as a dead letter;</li>
 *   <li>every {@code --reload-every} publishes a new version (new weights) and notes when predictions
 *       start to name it;</li>
 *   <li>reads {@code petal.predictions} and {@code petal.dlq} for its keys: latency is from the send to
 *       the output being read back;</li>
 *   <li>samples the service's resident memory ({@code /proc/PID/status} VmRSS), CPU time and JVM heap
 *       every {@code --sample-every};</li>
 *   <li>waits (at most {@code --drain}) for stragglers, prints the counts, latencies, reloads and
 *       memory, and whether the counts reconcile: every input came back exactly once.</li>
 * </ol>
 * A progress line goes to stderr every {@code --progress-every}. Exit codes: 0 all good, 1 the counts
 * do not reconcile, 3 resident memory grew by more than {@code --max-rss-growth} after the warm-up,
 * 2 usage or set-up errors. It changes the served model of the stack it runs against.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = "Steady load on the running inference service with periodic hot reloads; "
                + "checks every input comes back exactly once and memory stays flat. Prints one JSON line.")
public class SoakCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Inputs sent this soon after a reload began count as sent during the reload (latency apart). */
    private static final Duration RELOAD_WINDOW = Duration.ofSeconds(10);
    private static final List<String> DEFAULT_LABELS = List.of("daisy", "dandelion", "rose", "sunflower", "tulip");

    @Option(names = "--images", required = true, description = "Folder of class folders of images, e.g. ../shared/datasets/flowers.")
    Path images;

    @Option(names = "--minutes", defaultValue = "10", description = "How long to send (default: ${DEFAULT-VALUE}).")
    double minutes;

    @Option(names = "--rate", defaultValue = "10", description = "Inputs per second (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--reload-every", defaultValue = "2m", converter = DurationConverter.class,
            description = "Publish a new model version this often, e.g. 2m, 20s; 0: never (default: ${DEFAULT-VALUE}).")
    Duration reloadEvery;

    @Option(names = "--bad-every", defaultValue = "50", description = "Every Nth input is garbage bytes; 0: none (default: ${DEFAULT-VALUE}).")
    int badEvery;

    @Option(names = "--warm-up", defaultValue = "2m", converter = DurationConverter.class,
            description = "Memory after this long is the baseline for the leak check; at most half the run, and never before "
                    + "--settle after the first reload (default: ${DEFAULT-VALUE}).")
    Duration warmUp;

    @Option(names = "--settle", defaultValue = "30s", converter = DurationConverter.class,
            description = "The warm-up lasts at least until this long after the first reload: the first time two models "
                    + "are loaded side by side raises resident memory once (default: ${DEFAULT-VALUE}).")
    Duration settle;

    @Option(names = "--max-rss-growth", defaultValue = "0.10",
            description = "Allowed growth of resident memory from the warm-up to the end (default: ${DEFAULT-VALUE}).")
    double maxRssGrowth;

    @Option(names = "--sample-every", defaultValue = "10s", converter = DurationConverter.class,
            description = "Memory sampling interval (default: ${DEFAULT-VALUE}).")
    Duration sampleEvery;

    @Option(names = "--progress-every", defaultValue = "30s", converter = DurationConverter.class,
            description = "Progress line interval, on stderr (default: ${DEFAULT-VALUE}).")
    Duration progressEvery;

    @Option(names = "--drain", defaultValue = "2m", converter = DurationConverter.class,
            description = "After the last send, wait at most this long for outstanding outputs (default: ${DEFAULT-VALUE}).")
    Duration drain;

    @Option(names = "--ready-timeout", defaultValue = "5m", converter = DurationConverter.class,
            description = "How long the service may take to serve the first version (default: ${DEFAULT-VALUE}).")
    Duration readyTimeout;

    @Option(names = "--pid", description = "The inference service's process id; default: inference.pid in <state-dir>/services.properties.")
    Long pid;

    @Option(names = "--management-port", description = "The service's management port (its /q/metrics), for JVM heap figures;"
            + " default: inference.management-port from the same file.")
    Integer managementPort;

    @Option(names = "--state-dir", defaultValue = "${env:PETAL_STATE_DIR:-.petal}",
            description = "Where ./petal up wrote services.properties (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = "--model-name", defaultValue = "${env:PETAL_INFERENCE_MODEL_NAME:-petal}",
            description = "Model to publish versions of: the one the service serves, its petal.inference.model-name "
                    + "(default: ${DEFAULT-VALUE}, from PETAL_INFERENCE_MODEL_NAME where set).")
    String modelName;

    /** The network of the published versions. */
    @Mixin
    ModelOptions network;

    @Option(names = "--max-files", defaultValue = "500", description = "Images held in memory and sent in turn, spread over the classes (default: ${DEFAULT-VALUE}).")
    int maxFiles;

    private final KafkaClients kafka;
    private final Storage storage;

    private final SoakLedger ledger = new SoakLedger();
    private final List<Reload> reloads = new ArrayList<>();
    private final List<Sample> samples = new ArrayList<>();
    private volatile boolean reading = true;
    private volatile boolean sending = true;
    private volatile String lastVersionSeen = "none";
    private volatile String probeVersion;
    private final Map<String, Long> probeFirstSeen = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Throwable readerFailure;
    private String run;
    private long t0;

    public SoakCommand(KafkaClients kafka, Storage storage) {
        this.kafka = kafka;
        this.storage = storage;
    }

    /** One published version: when publishing started and ended (ns), and the seed of its weights. */
    private record Reload(String version, long seed, long startNanos, long doneNanos) {}

    /**
     * One look at the service: seconds since the start of the load, resident bytes, JVM heap used and committed
     * (-1: unknown), CPU seconds, load average.
     */
    private record Sample(double atSec, long rss, long heap, long heapCommitted, double cpuSec, double load) {
        /** Resident memory outside the committed heap (native: libtorch, metaspace, threads, ...); -1 when unknown. */
        long offHeap() {
            return rss < 0 || heapCommitted < 0 ? -1 : rss - heapCommitted;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (rate <= 0 || minutes <= 0 || badEvery < 0 || maxFiles <= 0) {
            System.err.println("petal soak: --rate and --minutes must be > 0, --bad-every >= 0, --max-files > 0");
            return 2;
        }
        String name = modelName;
        ProcessProbe service = findService();
        if (service == null) {
            return 2;
        }
        List<byte[]> files = readImages();
        List<String> labels = labels();
        ModelSpec spec = network.network().withLabels(labels);
        run = "soak-" + UUID.randomUUID().toString().substring(0, 8);
        Duration duration = Duration.ofMillis(Math.round(minutes * 60_000));
        Duration baseline = warmUpFor(duration);
        System.err.printf(Locale.ROOT, "petal soak %s: model %s, service pid %d, %.1f min at %.1f/s, reload every %s, bad input every %d, "
                        + "%d images from %s%n", run, name, service.pid(), minutes, rate, text(reloadEvery), badEvery,
                files.size(), images);

        try (KafkaProducer<byte[], byte[]> producer = kafka.producer();
             KafkaConsumer<byte[], byte[]> reader = kafka.reader()) {
            List<TopicPartition> outputs = new ArrayList<>();
            for (String topic : List.of(Topics.PREDICTIONS, Topics.DLQ)) {
                reader.partitionsFor(topic, Duration.ofSeconds(30)).forEach(p -> outputs.add(new TopicPartition(p.topic(), p.partition())));
            }
            reader.assign(outputs);
            reader.seekToEnd(outputs);
            outputs.forEach(reader::position); // fix the starting point before anything is sent
            Thread readerThread = new Thread(() -> read(reader), "soak-reader");
            readerThread.start();
            try {
                SoakModels models = new SoakModels(storage.checkpoints(), storage.objects(), producer, name, spec);
                String first = run + "-v0";
                long started = System.nanoTime();
                ledger.versionPublished(first);
                models.publish(first, models.weights(0), 0);
                synchronized (reloads) {
                    reloads.add(new Reload(first, 0, started, System.nanoTime()));
                }
                if (!awaitServing(producer, files.get(0), first)) {
                    System.err.println("petal soak: the service did not answer with " + first + " within " + text(readyTimeout)
                            + " (is it connected to the same Kafka and S3? see .petal/logs/inference.log)");
                    return 2;
                }
                System.err.printf(Locale.ROOT, "petal soak: the service serves %s after %.1f s; load starts%n", first,
                        (System.nanoTime() - started) / 1e9);

                t0 = System.nanoTime();
                sample(service);
                Thread reloader = new Thread(() -> reloadLoop(models, duration), "soak-reloader");
                reloader.setDaemon(true);
                reloader.start();
                Thread monitor = new Thread(() -> monitorLoop(service, duration), "soak-monitor");
                monitor.setDaemon(true);
                monitor.start();

                long sent = send(producer, files, duration);
                producer.flush();
                sending = false;
                long endNanos = System.nanoTime();
                reloader.interrupt();
                monitor.interrupt();
                reloader.join(120_000);
                monitor.join(10_000);
                Sample end = sample(service);

                long drainDeadline = System.nanoTime() + drain.toNanos();
                while (ledger.outstanding() > 0 && System.nanoTime() < drainDeadline && readerFailure == null) {
                    Thread.sleep(200);
                }
                long drainedNanos = System.nanoTime() - endNanos;
                Thread.sleep(1000); // a late duplicate would show up here
                ObjectNode out = report(name, service, sent, endNanos, end, baseline, drainedNanos);
                SoakLedger.Tally tally = ledger.tally();
                System.out.println(JSON.writeValueAsString(out));
                if (!tally.reconciled()) {
                    System.err.println("petal soak: the counts do not reconcile");
                    return 1;
                }
                JsonNode stable = out.path("rss").path("stable");
                if (stable.isBoolean() && !stable.asBoolean()) {
                    System.err.println("petal soak: resident memory grew by more than " + maxRssGrowth * 100 + "% after the warm-up");
                    return 3;
                }
                return 0;
            } finally {
                sending = false;
                reading = false;
                readerThread.join(10_000);
            }
        }
    }

    // ---- load

    /** Sends inputs at the steady rate until the duration is over; returns how many were sent. */
    private long send(KafkaProducer<byte[], byte[]> producer, List<byte[]> files, Duration duration) {
        long interval = Math.round(1e9 / rate);
        long total = (long) Math.floor(duration.toNanos() / (double) interval);
        int next = 0;
        for (long i = 0; i < total; i++) {
            long due = t0 + i * interval;
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            boolean bad = badEvery > 0 && (i + 1) % badEvery == 0;
            String key = String.format(Locale.ROOT, "%s-%06d", run, i);
            byte[] value = bad ? garbage(i) : files.get(next++ % files.size());
            ledger.sent(key, bad, System.nanoTime());
            producer.send(new ProducerRecord<>(Topics.IMAGES, key.getBytes(StandardCharsets.UTF_8), value), (meta, error) -> {
                if (error != null) {
                    ledger.sendFailed(key);
                    System.err.println("petal soak: could not send " + key + ": " + error.getMessage());
                }
            });
        }
        return total;
    }

    /** Bytes that are no image: random, but never starting like a JPEG, PNG, GIF, BMP or WebP. */
    private static byte[] garbage(long i) {
        byte[] b = new byte[512 + (int) (i % 1024)];
        new Random(i).nextBytes(b);
        b[0] = 'x';
        return b;
    }

    /** Sends a probe every two seconds until one comes back scored by {@code version}. */
    private boolean awaitServing(KafkaProducer<byte[], byte[]> producer, byte[] image, String version) throws InterruptedException {
        long deadline = System.nanoTime() + readyTimeout.toNanos();
        int n = 0;
        while (System.nanoTime() < deadline) {
            if (version.equals(probeVersion)) {
                return true;
            }
            if (readerFailure != null) {
                throw new IllegalStateException("the output reader failed", readerFailure);
            }
            producer.send(new ProducerRecord<>(Topics.IMAGES, (run + "-probe-" + n++).getBytes(StandardCharsets.UTF_8), image));
            producer.flush();
            for (int i = 0; i < 10 && !version.equals(probeVersion); i++) {
                Thread.sleep(200);
            }
        }
        return version.equals(probeVersion);
    }

    // ---- outputs

    private void read(KafkaConsumer<byte[], byte[]> reader) {
        String inputPrefix = run + "-";
        String probePrefix = run + "-probe-";
        try {
            while (reading) {
                for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(50))) {
                    long now = System.nanoTime();
                    if (r.key() == null) {
                        continue;
                    }
                    String key = new String(r.key(), StandardCharsets.UTF_8);
                    if (!key.startsWith(inputPrefix)) {
                        continue;
                    }
                    boolean prediction = r.topic().equals(Topics.PREDICTIONS);
                    if (key.startsWith(probePrefix)) {
                        String version = prediction ? version(r) : null;
                        if (version != null) {
                            probeFirstSeen.putIfAbsent(version, now);
                            probeVersion = version;
                        }
                        continue;
                    }
                    if (prediction) {
                        String version = version(r);
                        lastVersionSeen = version;
                        ledger.prediction(key, version, now);
                    } else {
                        Header h = r.headers().lastHeader(Headers.ERROR_CLASS);
                        ledger.deadLetter(key, h == null ? null : new String(h.value(), StandardCharsets.UTF_8), now);
                    }
                }
            }
        } catch (RuntimeException e) {
            readerFailure = e;
            System.err.println("petal soak: reading the outputs failed: " + e);
        }
    }

    private static String version(ConsumerRecord<byte[], byte[]> r) {
        try {
            return JSON.readTree(r.value()).path("model").path("version").asText(null);
        } catch (IOException e) {
            return null;
        }
    }

    // ---- reloads and monitoring

    private void reloadLoop(SoakModels models, Duration duration) {
        if (reloadEvery.isZero() || reloadEvery.isNegative()) {
            return;
        }
        try {
            for (int k = 1; ; k++) {
                long at = t0 + k * reloadEvery.toNanos();
                if (at >= t0 + duration.toNanos()) {
                    return;
                }
                byte[] weights = models.weights(k); // made ahead of time, so the reload happens on schedule
                long wait;
                while ((wait = at - System.nanoTime()) > 0) {
                    Thread.sleep(Math.max(1, wait / 1_000_000));
                }
                String version = run + "-v" + k;
                ledger.versionPublished(version);
                long start = System.nanoTime();
                models.publish(version, weights, k);
                synchronized (reloads) {
                    reloads.add(new Reload(version, k, start, System.nanoTime()));
                }
                System.err.printf(Locale.ROOT, "petal soak %s: published %s (%.1f s to store and announce)%n", clock(start),
                        version, (System.nanoTime() - start) / 1e9);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            System.err.println("petal soak: publishing a version failed: " + e);
        }
    }

    private void monitorLoop(ProcessProbe service, Duration duration) {
        long nextSample = t0 + sampleEvery.toNanos();
        long nextProgress = t0 + progressEvery.toNanos();
        try {
            while (sending) {
                long now = System.nanoTime();
                if (now >= nextSample) {
                    sample(service);
                    nextSample += sampleEvery.toNanos();
                }
                if (now >= nextProgress) {
                    progress(duration);
                    nextProgress += progressEvery.toNanos();
                }
                long wait = Math.min(nextSample, nextProgress) - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(Math.max(1, wait / 1_000_000));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Sample sample(ProcessProbe service) {
        ProcessProbe.Heap heap = service.heap();
        Sample s = new Sample((System.nanoTime() - t0) / 1e9, service.rssBytes().orElse(-1), heap.used(), heap.committed(),
                service.cpuSeconds().orElse(-1), ProcessProbe.loadAverage());
        synchronized (samples) {
            samples.add(s);
        }
        return s;
    }

    private void progress(Duration duration) {
        SoakLedger.Tally t = ledger.tally();
        Sample last;
        synchronized (samples) {
            last = samples.get(samples.size() - 1);
        }
        System.err.printf(Locale.ROOT, "petal soak %s/%s: sent %d (%d bad), predictions %d, dead letters %d, outstanding %d, "
                        + "duplicates %d, p50 %.1f ms, p99 %.1f ms, serving %s, rss %d MB (heap %d used, %d committed), load %.2f%n",
                clock(System.nanoTime()), clock(t0 + duration.toNanos()), t.inputs(), t.badInputs(), t.predictions(),
                t.deadLetters(), t.missing(), t.duplicates(), t.p(0.50), t.p(0.99), lastVersionSeen, mb(last.rss()),
                mb(last.heap()), mb(last.heapCommitted()), last.load());
    }

    // ---- the report

    private ObjectNode report(String name, ProcessProbe service, long sent, long endNanos, Sample end, Duration baseline,
                              long drainedNanos) {
        SoakLedger.Tally t = ledger.tally();
        ObjectNode out = JSON.createObjectNode();
        out.put("run", run);
        out.put("date", Instant.now().toString());
        out.put("model", name);
        out.put("arch", network.network().architecture().id());
        out.put("imageSize", network.network().imageSize());
        out.put("minutes", minutes);
        out.put("ratePerSec", rate);
        out.put("achievedRatePerSec", round(sent / ((endNanos - t0) / 1e9)));
        out.put("reloadEverySec", reloadEvery.toMillis() / 1000.0);
        out.put("badEvery", badEvery);
        out.put("cpus", Runtime.getRuntime().availableProcessors());

        out.put("inputs", t.inputs());
        out.put("goodInputs", t.inputs() - t.badInputs());
        out.put("badInputs", t.badInputs());
        out.put("predictions", t.predictions());
        out.put("deadLetters", t.deadLetters());
        out.put("missing", t.missing());
        out.put("duplicates", t.duplicates());
        out.put("goodInputsDeadLettered", t.goodToDeadLetters());
        out.put("badInputsPredicted", t.badToPredictions());
        out.put("sendFailures", t.sendFailures());
        out.put("reconciled", t.reconciled());
        out.put("drainSec", round(drainedNanos / 1e9));
        ObjectNode latency = out.putObject("latencyMs");
        latency.put("p50", round(t.p(0.50)));
        latency.put("p99", round(t.p(0.99)));
        latency.put("max", round(t.max()));
        latency.put("deadLetterP50", round(SoakLedger.percentile(t.deadLetterLatencyMs(), 0.50)));
        List<long[]> windows = new ArrayList<>();
        synchronized (reloads) {
            reloads.stream().skip(1).forEach(r -> windows.add(new long[] {r.startNanos(), r.startNanos() + RELOAD_WINDOW.toNanos()}));
        }
        if (!windows.isEmpty()) {
            java.util.function.LongPredicate inWindow = sentAt -> windows.stream().anyMatch(w -> sentAt >= w[0] && sentAt < w[1]);
            double[] steady = ledger.predictionLatencies(inWindow.negate());
            double[] reloading = ledger.predictionLatencies(inWindow);
            latency.put("reloadWindowSec", RELOAD_WINDOW.toSeconds());
            latency.put("steadyP50", round(SoakLedger.percentile(steady, 0.50)));
            latency.put("steadyP99", round(SoakLedger.percentile(steady, 0.99)));
            latency.put("steadyMax", round(steady.length == 0 ? Double.NaN : steady[steady.length - 1]));
            latency.put("reloadWindowP50", round(SoakLedger.percentile(reloading, 0.50)));
            latency.put("reloadWindowP99", round(SoakLedger.percentile(reloading, 0.99)));
            latency.put("reloadWindowMax", round(reloading.length == 0 ? Double.NaN : reloading[reloading.length - 1]));
        }
        latency.put("measured", "send to the output being read back, predictions only (dead letters apart); "
                + "reloadWindow: inputs sent in the " + RELOAD_WINDOW.toSeconds() + " s after a reload began, steady: the others");
        out.set("predictionsByVersion", JSON.valueToTree(t.predictionsByVersion()));
        out.set("deadLettersByClass", JSON.valueToTree(t.deadLettersByClass()));
        out.put("olderVersionAfterNewer", t.olderVersionAfterNewer());

        ArrayNode reloadArray = JSON.createArrayNode();
        int effective = 0;
        List<Reload> published;
        synchronized (reloads) {
            published = List.copyOf(reloads);
        }
        for (Reload r : published) {
            ObjectNode n = reloadArray.addObject();
            n.put("version", r.version());
            n.put("publishedAtSec", round((r.startNanos() - t0) / 1e9));
            n.put("publishMs", round((r.doneNanos() - r.startNanos()) / 1e6));
            SoakLedger.FirstSeen seen = ledger.firstSeen(r.version());
            Long probed = probeFirstSeen.get(r.version());
            // The first version is seen first by a probe, before the load starts.
            Long firstRead = probed != null && (seen == null || probed < seen.readNanos()) ? probed : seen == null ? null : seen.readNanos();
            if (firstRead != null) {
                n.put("tookEffectMs", round((firstRead - r.doneNanos()) / 1e6));
                n.put("firstPredictionAtSec", round((firstRead - t0) / 1e9));
                effective++;
            } else {
                n.putNull("tookEffectMs");
            }
        }
        out.put("reloads", published.size() - 1);
        out.put("reloadsTakenEffect", Math.max(0, effective - 1));
        out.set("versions", reloadArray);

        ObjectNode rss = out.putObject("rss");
        rss.put("pid", service.pid());
        List<Sample> all;
        synchronized (samples) {
            all = List.copyOf(samples);
        }
        Sample start = all.get(0);
        Sample warm = all.stream().filter(s -> s.atSec() >= baseline.toMillis() / 1000.0 && s.rss() > 0).findFirst().orElse(null);
        rss.put("startMb", mb(start.rss()));
        rss.put("warmUpSec", baseline.toMillis() / 1000.0);
        Sample beforeReload = reloadEvery.isZero() ? null : all.stream()
                .filter(x -> x.atSec() < reloadEvery.toMillis() / 1000.0 && x.rss() > 0).reduce((a, b) -> b).orElse(null);
        rss.put("beforeFirstReloadMb", beforeReload == null ? -1 : mb(beforeReload.rss()));
        rss.put("afterWarmUpMb", warm == null ? -1 : mb(warm.rss()));
        rss.put("endMb", mb(end.rss()));
        rss.put("peakMb", mb(service.peakRssBytes().orElse(-1)));
        if (warm != null && end.rss() > 0 && warm != end) {
            List<Sample> after = all.stream().filter(s -> s.atSec() >= warm.atSec() && s.rss() > 0).toList();
            long maxAfter = after.stream().mapToLong(Sample::rss).max().orElse(end.rss());
            double ratio = end.rss() / (double) warm.rss();
            rss.put("maxAfterWarmUpMb", mb(maxAfter));
            rss.put("endToWarmUpRatio", round3(ratio));
            rss.put("maxToWarmUpRatio", round3(maxAfter / (double) warm.rss()));
            rss.put("slopeMbPerMinAfterWarmUp", round(slopeMbPerMin(after)));
            rss.put("stable", ratio <= 1 + maxRssGrowth);
        } else {
            rss.putNull("stable");
        }
        rss.put("heapUsedStartMb", mb(start.heap()));
        rss.put("heapUsedEndMb", mb(end.heap()));
        rss.put("heapCommittedStartMb", mb(start.heapCommitted()));
        rss.put("heapCommittedEndMb", mb(end.heapCommitted()));
        // The part a native leak (a model never closed) would grow: resident memory minus the committed heap.
        rss.put("offHeapStartMb", mb(start.offHeap()));
        rss.put("offHeapAfterWarmUpMb", warm == null ? -1 : mb(warm.offHeap()));
        rss.put("offHeapEndMb", mb(end.offHeap()));
        if (warm != null && warm.offHeap() > 0 && end.offHeap() > 0) {
            rss.put("offHeapEndToWarmUpRatio", round3(end.offHeap() / (double) warm.offHeap()));
        }
        double cpu = end.cpuSec() >= 0 && start.cpuSec() >= 0 ? end.cpuSec() - start.cpuSec() : -1;
        rss.put("serviceCpuSec", round(cpu));
        rss.put("serviceCpuPercentOfOneCore", round(cpu * 100 / Math.max(1e-9, end.atSec() - start.atSec())));
        rss.put("serviceAliveAtEnd", service.alive());
        ArrayNode list = rss.putArray("samples");
        list.add("atSec,rssMb,heapUsedMb,heapCommittedMb,offHeapMb,load1");
        for (Sample s : all) {
            list.add(String.format(Locale.ROOT, "%.0f,%d,%d,%d,%d,%.2f", s.atSec(), mb(s.rss()), mb(s.heap()), mb(s.heapCommitted()),
                    mb(s.offHeap()), s.load()));
        }
        return out;
    }

    /**
     * When the memory baseline is taken: {@code --warm-up} (at most half the run), but not before {@code --settle}
     * after the first reload when that still leaves time to watch: a leak shows as growth from one reload to the
     * next, while the first reload raises memory once (old and new model side by side, and glibc keeps the arena's
     * high-water mark with trimming off, see docs/performance.md).
     */
    Duration warmUpFor(Duration duration) {
        Duration base = warmUp.compareTo(duration.dividedBy(2)) > 0 ? duration.dividedBy(2) : warmUp;
        if (reloadEvery.isZero() || reloadEvery.isNegative()) {
            return base;
        }
        Duration afterFirstReload = reloadEvery.plus(settle);
        return afterFirstReload.compareTo(base) > 0 && afterFirstReload.compareTo(duration.minus(settle)) <= 0 ? afterFirstReload : base;
    }

    /** Least-squares slope of resident memory over time, MB per minute. */
    private static double slopeMbPerMin(List<Sample> s) {
        if (s.size() < 2) {
            return 0;
        }
        double mx = s.stream().mapToDouble(Sample::atSec).average().orElse(0);
        double my = s.stream().mapToDouble(x -> x.rss() / 1048576.0).average().orElse(0);
        double num = 0;
        double den = 0;
        for (Sample x : s) {
            num += (x.atSec() - mx) * (x.rss() / 1048576.0 - my);
            den += (x.atSec() - mx) * (x.atSec() - mx);
        }
        return den == 0 ? 0 : num / den * 60;
    }

    // ---- set-up

    /** The service process from --pid or the state directory; null (after saying why) when there is none. */
    private ProcessProbe findService() {
        Integer port = managementPort;
        Long id = pid;
        Path file = stateDir.resolve("services.properties");
        if (id == null || port == null) {
            Properties props = new Properties();
            if (Files.isRegularFile(file)) {
                try (InputStream in = Files.newInputStream(file)) {
                    props.load(in);
                } catch (IOException e) {
                    System.err.println("petal soak: cannot read " + file + ": " + e.getMessage());
                }
            }
            if (id == null && props.getProperty("inference.pid") != null) {
                id = Long.parseLong(props.getProperty("inference.pid").trim());
            }
            if (port == null && props.getProperty("inference.management-port") != null && pid == null) {
                port = Integer.parseInt(props.getProperty("inference.management-port").trim());
            }
        }
        if (id == null) {
            System.err.println("petal soak: no inference service in " + file + ": start the stack with ./petal up, or pass --pid");
            return null;
        }
        ProcessProbe probe = new ProcessProbe(id, port);
        if (!probe.alive() || probe.rssBytes().isEmpty()) {
            System.err.println("petal soak: process " + id + " is not running (or /proc/" + id + "/status is unreadable)");
            return null;
        }
        return probe;
    }

    private List<byte[]> readImages() throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(images)) {
            paths = walk.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(jpe?g|png)$"))
                    .sorted().toList();
        }
        if (paths.isEmpty()) {
            throw new CommandLine.ParameterException(new CommandLine(this), "no .jpg or .png images under " + images);
        }
        // Evenly spread over the sorted list, so every class folder contributes.
        List<byte[]> files = new ArrayList<>();
        int n = Math.min(maxFiles, paths.size());
        for (int i = 0; i < n; i++) {
            files.add(Files.readAllBytes(paths.get((int) ((long) i * paths.size() / n))));
        }
        // Interleave the classes rather than send one class after another.
        List<byte[]> mixed = new ArrayList<>(files);
        java.util.Collections.shuffle(mixed, new Random(100));
        return mixed;
    }

    private List<String> labels() throws IOException {
        List<String> labels;
        try (Stream<Path> dirs = Files.list(images)) {
            labels = dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).sorted().toList();
        }
        return labels.size() >= 2 ? labels : DEFAULT_LABELS;
    }

    // ---- small things

    private String clock(long nanos) {
        long s = Math.max(0, (nanos - t0) / 1_000_000_000L);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    private static String text(Duration d) {
        return d.toMillis() % 60_000 == 0 && !d.isZero() ? d.toMinutes() + "m" : d.toMillis() / 1000.0 + "s";
    }

    private static long mb(long bytes) {
        return bytes < 0 ? -1 : Math.round(bytes / 1048576.0);
    }

    private static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 100) / 100.0 : -1;
    }

    private static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** {@code 2m}, {@code 20s}, {@code 500ms}, {@code 1h}, a plain number of seconds, or ISO-8601 ({@code PT2M}). */
    public static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        private static final Pattern SIMPLE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");

        @Override
        public Duration convert(String value) {
            String v = value.trim().toLowerCase(Locale.ROOT);
            if (v.startsWith("pt")) {
                return Duration.parse(value.trim().toUpperCase(Locale.ROOT));
            }
            Matcher m = SIMPLE.matcher(v);
            if (!m.matches()) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (e.g. 2m, 20s, 500ms)");
            }
            double n = Double.parseDouble(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            double millis = switch (unit) {
                case "ms" -> n;
                case "m" -> n * 60_000;
                case "h" -> n * 3_600_000;
                default -> n * 1000;
            };
            return Duration.ofMillis(Math.round(millis));
        }
    }
}
