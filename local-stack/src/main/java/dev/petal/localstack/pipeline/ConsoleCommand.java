package dev.petal.localstack.pipeline;

import dev.petal.common.auth.Roles;
import dev.petal.localstack.auth.LocalKeyPair;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code ./petal console}: opens the web console of the local stack signed in. It mints a short-lived token from the
 * stack's key pair, trades it with the console for a one-time login code ({@code POST /api/session/login-codes}), and
 * prints (and opens, where there is a browser) {@code http://HOST:PORT/#login=CODE}. The token itself never leaves
 * this process and the console: the browser gets only the code, in the URL's fragment, which it never sends to a
 * server (so no access log or proxy sees it), and which works once, for 60 seconds; the page trades it for an
 * HttpOnly session cookie and removes it from the address bar and history.
 */
@Command(name = "console", mixinStandardHelpOptions = true,
        description = "Open the web console of the local stack, signed in (starts the stack when it is not up).")
public final class ConsoleCommand implements Callable<Integer> {
    private static final Pattern CODE = Pattern.compile("\"code\"\\s*:\\s*\"([A-Za-z0-9_-]+)\"");

    @ParentCommand
    PipelineCli parent;

    @Spec
    CommandSpec spec;

    @Option(names = "--role", defaultValue = "admin", paramLabel = "ROLE", split = ",",
            description = "The console's roles: scorer (read only), trainer (also start runs) or admin (also promote, roll back,"
                    + " replay). Default: ${DEFAULT-VALUE}.")
    List<String> roles;

    @Option(names = "--ttl", defaultValue = "8h", paramLabel = "DURATION",
            description = "How long the session may last (the token's lifetime): 30m, 8h; at most 7d. Default: ${DEFAULT-VALUE}.")
    String ttl;

    @Option(names = "--no-browser", description = "Only print the link.")
    boolean noBrowser;

    PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        Set<String> asked = new LinkedHashSet<>();
        for (String role : roles) {
            String r = role.trim().toLowerCase(Locale.ROOT);
            if (!List.of(Roles.SCORER, Roles.TRAINER, Roles.ADMIN).contains(r)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "the console takes the roles scorer, trainer or admin; was '" + role + "'");
            }
            asked.add(r);
        }
        Duration lifetime;
        try {
            lifetime = TokenCommand.parseTtl(ttl);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        LocalPipeline pipeline = parent.pipeline();
        Properties services = pipeline.stackUp() && pipeline.servicesUp() ? new StateDir(parent.stateDir).services().orElseThrow() : pipeline.up();
        String base = "http://" + services.getProperty("host", "127.0.0.1") + ":" + services.getProperty("console.port");
        StateDir state = new StateDir(parent.stateDir);
        LocalKeyPair keys = LocalKeyPair.find(state.authDir())
                .orElseThrow(() -> new IllegalStateException("no token key pair in " + state.authDir() + "; ./petal up makes one"));
        String token = keys.issuer().mint(TokenCommand.subject(), asked, lifetime);
        String link = base + "/#login=" + loginCode(base, token);
        out.println("petal console: " + link);
        out.println("(a one-time link: it signs in once, within 60 s, as " + TokenCommand.subject() + " with " + asked
                + "; run ./petal console again for another)");
        if (!noBrowser) {
            open(link);
        }
        return 0;
    }

    /** The console's one-time code for {@code token}. */
    public static String loginCode(String base, String token) throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/api/session/login-codes"))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = CODE.matcher(response.body());
        if (response.statusCode() != 200 || !m.find()) {
            throw new IllegalStateException("the console at " + base + " gave no login code (HTTP " + response.statusCode() + ")");
        }
        return m.group(1);
    }

    /** Opens {@code link} in the desktop's browser when there is one; says so either way. */
    private void open(String link) {
        Optional<List<String>> command = browserCommand();
        if (command.isEmpty()) {
            out.println("(no desktop browser found here: open the link yourself)");
            return;
        }
        try {
            List<String> argv = new java.util.ArrayList<>(command.get());
            argv.add(link);
            new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            out.println("(opened in your browser)");
        } catch (IOException e) {
            out.println("(could not start a browser: open the link yourself)");
        }
    }

    static Optional<List<String>> browserCommand() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.contains("mac") && Files.isExecutable(Path.of("/usr/bin/open"))) {
            return Optional.of(List.of("/usr/bin/open"));
        }
        boolean desktop = System.getenv("DISPLAY") != null || System.getenv("WAYLAND_DISPLAY") != null;
        if (desktop) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "xdg-open"))) {
                    return Optional.of(List.of(Path.of(dir, "xdg-open").toString()));
                }
            }
        }
        return Optional.empty();
    }
}
