package dev.petal.localstack.pipeline;

import dev.petal.common.auth.Roles;
import dev.petal.common.records.KafkaClients;
import dev.petal.common.records.ValidSplit;
import dev.petal.common.registry.GateRecord;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.S3Settings;
import dev.petal.localstack.auth.LocalKeyPair;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ./petal demo}: the whole story on the local stack. Ingest a class-folder dataset, train (the promotion gate
 * makes the run's best epoch champion), let inference hot-load the champion, score the held-out images through Kafka,
 * and report, naming the champion and how many candidates the gate kept out.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Ingest, train, hot-load and score end to end on the local stack; print accuracy and write an HTML report.")
final class DemoCommand implements Callable<Integer> {
    /** Trainer flags of the --quick preset: a few minutes on 2 cores, most of the accuracy. */
    static final List<String> QUICK = List.of("--arch", "resnet18", "--image-size", "96", "--epochs", "3",
            "--batch-size", "32", "--lr", "1e-3", "--warmup-iters", "10", "--augment");
    /** Trainer flags for the generated shapes: tiny images, so the small stem. */
    static final List<String> GENERATED = List.of("--arch", "resnet18", "--image-size", "48", "--stem", "small",
            "--epochs", "8", "--batch-size", "16", "--lr", "2e-3", "--warmup-iters", "5");

    @ParentCommand
    PipelineCli parent;

    @Option(names = "--dataset", description = "A class-folder dataset (one sub-folder per label). Default: flower photos "
            + "at datasets/flower_photos, datasets/flowers or ../shared/datasets/flowers, else a generated one.")
    Path dataset;

    @Option(names = "--quick", description = "ResNet-18 at 96 px, 3 epochs with augmentation, instead of the seed recipe (224 px, batch 4, 1 epoch).")
    boolean quick;

    @Option(names = "--epochs", description = "Epochs to train instead of the recipe's own (the gate still picks the best).")
    Integer epochs;

    @Option(names = "--model-name", defaultValue = "petal", description = "Model name in object storage (default: ${DEFAULT-VALUE}).")
    String modelName;

    @Option(names = "--timeout", defaultValue = "600", description = "Seconds to wait for all predictions (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        java.time.Instant startedAt = java.time.Instant.now();
        LocalPipeline pipeline = parent.pipeline();
        Properties services = pipeline.up();
        StateDir state = new StateDir(parent.stateDir);
        Path root = parent.root;

        DemoDataset.Choice data = DemoDataset.choose(dataset, root, state.root(), out);
        String runId = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));

        out.println("\ndemo: 1/4 ingest " + data.dir() + " as dataset '" + data.name() + "'");
        int ingest = launcher(root, state, List.of("ingest", "dataset", data.dir().toString(), "--dataset", data.name()));
        if (ingest != 0 && ingest != 3) {
            return fail("ingest failed (exit " + ingest + ")");
        }

        List<String> train = new ArrayList<>(List.of("train", "--model-name", modelName, "--dataset", data.name()));
        train.addAll(data.generated() ? GENERATED : quick ? QUICK : List.of());
        if (epochs != null) {
            withEpochs(train, epochs);
        }
        out.println("\ndemo: 2/4 train " + (data.generated() ? "(generated-data preset)" : quick ? "(--quick preset)" : "(the seed recipe)")
                + ": ./petal " + String.join(" ", train));
        int trained = launcher(root, state, train);
        if (trained != 0) {
            return fail("training failed (exit " + trained + ")");
        }

        Map<String, String> config = state.clientConfig();
        KafkaClients kafka = KafkaClients.fromConfig(config);
        String version;
        try (ObjectStore store = new ObjectStore(S3Settings.fromConfig(config::get))) {
            // Inference serves the champion: the run's best epoch when the gate promoted it (docs/model-lifecycle.md).
            ModelRegistry registry = new ModelRegistry(store);
            version = registry.resolve(modelName, ModelRegistry.CHAMPION)
                    .orElseThrow(() -> new IllegalStateException("no champion of " + modelName + ": the trainer published no version"));
            out.println("\ndemo: 3/4 waiting for inference to load the champion, " + modelName + " " + version);
            awaitModel(services.getProperty("host", "127.0.0.1"), Integer.parseInt(services.getProperty("inference.port")), version,
                    bearer(state), Duration.ofSeconds(300));

            out.println("\ndemo: 4/4 score the valid split through Kafka");
            Map<String, ValidSplit.Image> byKey = new LinkedHashMap<>();
            for (ValidSplit.Image image : ValidSplit.read(kafka, data.name())) {
                byKey.put("demo-" + runId + "-" + image.id(), image);
            }
            if (byKey.isEmpty()) {
                return fail("dataset '" + data.name() + "' has no valid-split images on petal.train");
            }
            ScoringRound.Answers answers = new ScoringRound(kafka, out).score(byKey, Duration.ofSeconds(timeoutSeconds));
            DemoResults results = new DemoResults(byKey, answers);
            results.print(out);
            if (!answers.deadLetters().isEmpty()) {
                out.println("dead letters: " + answers.deadLetters().size());
                answers.deadLetters().entrySet().stream().limit(5).forEach(e -> out.println("  " + e.getKey() + ": " + e.getValue()));
            }
            TrainingHistory.Run history = TrainingHistory.read(store, modelName, version);
            Path report = DemoReport.write(state.root().resolve("reports/demo-" + runId + ".html").toAbsolutePath(),
                    modelName, version, data.name(), results, history, byKey.size(), answers.deadLetters().size());
            out.printf("%ndemo: took %.1f min%n", (System.nanoTime() - started) / 60e9);
            out.println("demo: " + gateSummary(registry, version, startedAt));
            out.printf("demo: %d images scored, accuracy %.1f%%, model %s, report %s%n",
                    results.scored.size(), 100 * results.accuracy(), version, report);
            boolean complete = answers.predictions().size() == byKey.size() && answers.duplicates() == 0;
            if (!complete) {
                System.err.printf("demo: %d of %d images got no prediction (%d dead letters, %d duplicates)%n",
                        byKey.size() - answers.predictions().size(), byKey.size(), answers.deadLetters().size(), answers.duplicates());
            }
            return complete ? 0 : 1;
        }
    }

    /** Sets the trainer's --epochs in {@code args}, replacing a preset's (picocli refuses an option given twice). */
    static void withEpochs(List<String> args, int epochs) {
        int at = args.indexOf("--epochs");
        if (at >= 0) {
            args.set(at + 1, Integer.toString(epochs));
        } else {
            args.addAll(List.of("--epochs", Integer.toString(epochs)));
        }
    }

    /** The champion and what the promotion gate kept out of this demo's candidates. */
    private String gateSummary(ModelRegistry registry, String champion, java.time.Instant since) {
        int candidates = 0;
        int keptOut = 0;
        for (Map.Entry<String, GateRecord> gate : registry.gates(modelName).entrySet()) {
            if (gate.getValue().at() != null && gate.getValue().at().compareTo(since.toString()) >= 0) {
                candidates++;
                keptOut += GateRecord.PROMOTED.equals(gate.getValue().decision()) ? 0 : 1;
            }
        }
        Object accuracy = registry.manifest(modelName, champion).metrics().get("validAccuracy");
        return String.format("champion %s (valid accuracy %s); the gate kept out %d of this run's %d candidates",
                champion, accuracy instanceof Number n ? String.format("%.1f%%", 100 * n.doubleValue()) : "?", keptOut, candidates);
    }

    /** Runs {@code ./petal ARGS} against this state dir, its output going straight to the terminal. */
    static int launcher(Path root, StateDir state, List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(root.resolve("petal").toString());
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
        pb.environment().put("PETAL_STATE_DIR", state.root().toAbsolutePath().toString());
        return pb.start().waitFor();
    }

    /** A scorer's token from the stack's key pair (./petal up made it), for inference's API. */
    static String bearer(StateDir state) {
        LocalKeyPair keys = LocalKeyPair.find(state.authDir())
                .orElseThrow(() -> new IllegalStateException("no token key pair in " + state.authDir() + "; ./petal up makes one"));
        return "Bearer " + keys.issuer().mint("petal-demo", List.of(Roles.SCORER), Duration.ofHours(1));
    }

    /** Polls inference's GET /model until it serves {@code version}. */
    private void awaitModel(String host, int port, String version, String authorization, Duration timeout) throws InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/model"))
                        .header("Authorization", authorization).timeout(Duration.ofSeconds(3)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 401 || response.statusCode() == 403) {
                    throw new IllegalStateException("inference refused the demo's token (HTTP " + response.statusCode() + "): "
                            + response.body());
                }
                if (response.statusCode() == 200 && response.body().contains("\"" + version + "\"")) {
                    out.println("demo: inference serves " + version);
                    return;
                }
            } catch (IOException e) {
                // not answering yet
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("inference did not load " + version + " within " + timeout.toSeconds()
                + " s; see " + parent.stateDir.resolve("logs/inference.log"));
    }

    private int fail(String message) {
        System.err.println("demo: " + message);
        return 1;
    }
}
