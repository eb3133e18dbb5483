package dev.petal.localstack.pipeline;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import dev.petal.localstack.Listening;
import dev.petal.localstack.auth.KafkaUsers;
import dev.petal.localstack.auth.LocalKeyPair;

/**
 * The local pipeline: the embedded stack (Kafka + S3) and the three services, each its own process,
 * the same builds and configuration keys as in docker-compose and Kubernetes. Each service gets two free
 * ports: its API ({@code <name>.port}) and its management interface, health and metrics
 * ({@code <name>.management-port}), both written to {@code services.properties}. Everything listens on
 * 127.0.0.1 unless {@code --bind} says otherwise. The APIs accept tokens of the key pair made once under
 * {@code .petal/auth/} ({@code ./petal token}); with {@code --secure}, each service logs in to Kafka as its own
 * principal and is held to its ACLs.
 */
public final class LocalPipeline {
    /**
     * How {@code ./petal up} runs the stack.
     *
     * @param secure Kafka clients authenticate with SCRAM and are held to ACLs
     * @param listening where the stack and the services listen; null: not asked (127.0.0.1 for a new stack, and a
     *        running one is taken where it listens)
     */
    public record Options(boolean secure, Listening listening) {
        public static final Options DEFAULT = new Options(false, null);

        Listening listeningOrLoopback() {
            return listening == null ? Listening.LOOPBACK : listening;
        }
    }

    /** A service of the pipeline and the health endpoint (on its management port) that says it has started. */
    public record Service(String name, String healthPath) {
        Path jar(Path root) {
            return root.resolve(name + "-service/target/quarkus-app/quarkus-run.jar");
        }
    }

    /**
     * Inference is "ready" only with a model; at start-up we wait for it to be alive. The console comes last: it is
     * pointed at the trainer's API and inference's metrics ({@link #consoleSettings}).
     */
    public static final List<Service> SERVICES = List.of(
            new Service("ingest", "/q/health/ready"),
            new Service("trainer", "/q/health/ready"),
            new Service("inference", "/q/health/live"),
            new Service("console", "/q/health/live"));

    private static final Duration STACK_TIMEOUT = Duration.ofSeconds(90);
    private static final String LOOPBACK = "127.0.0.1";
    private static final Duration SERVICE_TIMEOUT = Duration.ofSeconds(240);

    private final StateDir state;
    private final Path root;
    private final PrintStream out;

    public LocalPipeline(StateDir state, Path root, PrintStream out) {
        this.state = state;
        this.root = root;
        this.out = out;
    }

    public boolean stackUp() {
        return state.stack().map(p -> StateDir.alive(p.getProperty("pid"))).orElse(false);
    }

    public boolean servicesUp() {
        return state.services().map(p -> SERVICES.stream()
                .allMatch(s -> StateDir.alive(p.getProperty(s.name() + ".pid")))).orElse(false);
    }

    /** Starts what is not running, as it runs or on 127.0.0.1 without --secure; returns the services' addresses. */
    public Properties up() throws IOException, InterruptedException {
        return up(null);
    }

    /**
     * Starts what is not running; returns the services' addresses.
     *
     * @param asked how to run a stack that is not running yet, and what a running one must match; null: take a
     *        running stack as it is, start a new one with {@link Options#DEFAULT}
     */
    public Properties up(Options asked) throws IOException, InterruptedException {
        if (stackUp()) {
            checkRunningStackMatches(asked);
        }
        if (stackUp() && servicesUp()) {
            out.println("petal: already up (./petal status shows it, ./petal down stops it)");
            return state.services().orElseThrow();
        }
        if (!stackUp()) {
            startStack(asked == null ? Options.DEFAULT : asked);
        }
        Map<String, String> config = state.clientConfig();
        LocalKeyPair tokenKeys = LocalKeyPair.ensure(state.authDir());
        KafkaUsers users = state.secure() ? state.kafkaUsers() : null;
        String bind = state.stack().map(p -> p.getProperty("bind", LOOPBACK)).orElse(LOOPBACK);
        String host = state.host();
        Map<String, String> services = new LinkedHashMap<>();
        Properties previous = state.services().orElse(new Properties());
        for (Service service : SERVICES) {
            String oldPid = previous.getProperty(service.name() + ".pid");
            if (StateDir.alive(oldPid)) {
                services.put(service.name() + ".pid", oldPid);
                services.put(service.name() + ".port", previous.getProperty(service.name() + ".port"));
                services.put(service.name() + ".management-port", managementPort(previous, service.name()));
                continue;
            }
            int port = freePort();
            int managementPort = freePort();
            Path jar = service.jar(root);
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException(jar + " is missing: build with ./mvnw -B install -DskipTests");
            }
            ServiceSettings settings = ServiceSettings.of(service.name(), config, port, managementPort, bind,
                    tokenKeys.publicKeyFile(), users);
            if (service.name().equals("console")) {
                settings = settings.with(consoleSettings(host, services));
            }
            Path log = state.logs().resolve(service.name() + ".log");
            out.printf("petal: starting %s on port %d, management port %d (log %s)%n", service.name(), port, managementPort,
                    root.relativize(log.toAbsolutePath()));
            Process process = ServiceProcess.launch(ServiceProcess.serviceJvmOptions(service.name()), settings.properties(), settings.environment(),
                    List.of("-jar", jar.toString(), "serve"), log);
            services.put(service.name() + ".pid", Long.toString(process.pid()));
            services.put(service.name() + ".port", Integer.toString(port));
            services.put(service.name() + ".management-port", Integer.toString(managementPort));
            state.writeServices(services);
            String url = "http://" + host + ":" + managementPort + service.healthPath();
            if (!ServiceProcess.awaitHealthy(process, url, SERVICE_TIMEOUT)) {
                throw new IllegalStateException(service.name() + " did not become healthy at " + url
                        + (process.isAlive() ? " within " + SERVICE_TIMEOUT.toSeconds() + " s" : " (it exited)")
                        + "; see " + log);
            }
        }
        services.put("host", host);
        state.writeServices(services);
        Properties written = state.services().orElseThrow();
        printAddresses(written);
        return written;
    }

    /** Where the console finds the trainer's API and inference's metrics: the ports this stack gave them. */
    static Map<String, String> consoleSettings(String host, Map<String, String> services) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("petal.console.trainer-url", "http://" + host + ":" + services.get("trainer.port"));
        settings.put("petal.console.inference-metrics-urls", "http://" + host + ":" + services.get("inference.management-port") + "/q/metrics");
        return settings;
    }

    /** A running stack must run as asked: a mode or an address is never changed under running clients. */
    private void checkRunningStackMatches(Options asked) {
        if (asked == null) {
            return;
        }
        if (asked.secure() && !state.secure()) {
            throw new IllegalStateException("the local stack runs without --secure; stop it first (./petal down), then ./petal up --secure");
        }
        String bind = state.stack().map(p -> p.getProperty("bind", LOOPBACK)).orElse(LOOPBACK);
        if (asked.listening() != null && !asked.listening().bindAddress().equals(bind)) {
            throw new IllegalStateException("the local stack listens on " + bind + ", not " + asked.listening().bindAddress()
                    + "; stop it first (./petal down)");
        }
    }

    private void startStack(Options options) throws IOException, InterruptedException {
        Files.deleteIfExists(state.stackFile());
        Path jar = root.resolve("local-stack/target/petal-local-stack-0.1.0-SNAPSHOT.jar");
        Path log = state.logs().resolve("stack.log");
        out.println("petal: starting the local stack (Kafka + S3, data in " + state.root() + ")"
                + (options.secure() ? ", Kafka with SCRAM logins and ACLs" : ""));
        Listening listening = options.listeningOrLoopback();
        if (!listening.loopbackOnly()) {
            out.println("petal: listening on " + listening.bindAddress() + ": other machines can reach Kafka, S3 (whose keys"
                    + " are the local defaults) and the APIs" + (options.secure() ? "" : "; Kafka without --secure takes any client"));
        }
        List<String> args = new ArrayList<>(List.of("-jar", jar.toString(), state.root().toAbsolutePath().toString(),
                "--bind", listening.bindAddress()));
        if (options.secure()) {
            args.add("--secure");
        }
        Process stack = ServiceProcess.launch(List.of(), Map.of(), args, log);
        long deadline = System.nanoTime() + STACK_TIMEOUT.toNanos();
        while (!stackUp()) {
            if (!stack.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("the local stack did not start; see " + log);
            }
            Thread.sleep(200);
        }
    }

    /** Stops the services, then the stack; returns how many processes were stopped. */
    public int down() throws InterruptedException, IOException {
        int stopped = 0;
        Properties services = state.services().orElse(new Properties());
        for (Service service : SERVICES) {
            String pid = services.getProperty(service.name() + ".pid");
            if (StateDir.alive(pid)) {
                boolean killed = ServiceProcess.stop(Long.parseLong(pid), Duration.ofSeconds(30));
                out.println("petal: stopped " + service.name() + (killed ? " (forcibly, after 30 s)" : ""));
                stopped++;
            }
        }
        Files.deleteIfExists(state.servicesFile());
        String stackPid = state.stack().map(p -> p.getProperty("pid")).orElse(null);
        if (StateDir.alive(stackPid)) {
            boolean killed = ServiceProcess.stop(Long.parseLong(stackPid), Duration.ofSeconds(30));
            out.println("petal: stopped the local stack" + (killed ? " (forcibly, after 30 s)" : ""));
            stopped++;
        }
        Files.deleteIfExists(state.stackFile());
        return stopped;
    }

    public void printAddresses(Properties services) {
        Properties stack = state.stack().orElse(new Properties());
        out.println("kafka:     " + stack.getProperty("kafka", "-"));
        out.println("s3:        " + stack.getProperty("s3", "-") + "  bucket " + stack.getProperty("bucket", "-"));
        String host = services.getProperty("host", LOOPBACK);
        for (Service service : SERVICES) {
            out.printf("%-10s http://%s:%s  (health, metrics: http://%s:%s/q)%n", service.name() + ":", host,
                    services.getProperty(service.name() + ".port", "-"), host, managementPort(services, service.name()));
        }
        out.println("(written to " + state.stackFile() + " and " + state.servicesFile() + ")");
        out.println("console: ./petal console opens it signed in");
        out.println("APIs: a bearer token from ./petal token --role scorer|ingester|trainer|admin"
                + (state.secure() ? "; Kafka: SCRAM logins, see " + state.authDir().resolve(KafkaUsers.FILE) : ""));
    }

    /**
     * The management port (health, metrics) of a service in {@code services}; a file written before services had
     * one carries only {@code <name>.port}, which then served health too.
     */
    static String managementPort(Properties services, String name) {
        String port = services.getProperty(name + ".management-port");
        return port != null ? port : services.getProperty(name + ".port", "-");
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }
}
