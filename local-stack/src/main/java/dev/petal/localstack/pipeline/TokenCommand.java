package dev.petal.localstack.pipeline;

import dev.petal.common.auth.Roles;
import dev.petal.localstack.auth.LocalKeyPair;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
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
 * {@code ./petal token --role R [--ttl 1h]}: prints a bearer token for the local stack's APIs, signed with the key
 * pair {@code ./petal up} made under {@code .petal/auth/}, for curl and other clients:
 * {@code curl -H "Authorization: Bearer $(./petal token --role scorer)" ...}.
 */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = "Print a bearer token for the local stack's APIs (its key pair is made by ./petal up).")
final class TokenCommand implements Callable<Integer> {
    /** The longest a token may live: a local token is a password for a while, so a short default and a cap. */
    static final Duration MAX_TTL = Duration.ofDays(7);
    private static final Pattern TTL = Pattern.compile("(\\d{1,9})([smhd])");

    @ParentCommand
    PipelineCli parent;

    @Spec
    CommandSpec spec;

    @Option(names = "--role", required = true, paramLabel = "ROLE", split = ",",
            description = "scorer (POST /predict, GET /model), ingester (POST /images), trainer (POST and GET /train) or"
                    + " admin (all of them); repeat or comma-separate for several.")
    List<String> roles;

    @Option(names = "--ttl", defaultValue = "1h", paramLabel = "DURATION",
            description = "How long the token is valid: 90s, 30m, 1h, 2d; at most 7d. Default: ${DEFAULT-VALUE}.")
    String ttl;

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() {
        Set<String> asked = new LinkedHashSet<>();
        for (String role : roles) {
            String r = role.trim().toLowerCase(Locale.ROOT);
            if (!Roles.ALL.contains(r)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "unknown role '" + role + "'; choose from " + Roles.ALL);
            }
            asked.add(r);
        }
        Duration lifetime;
        try {
            lifetime = parseTtl(ttl);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        StateDir state = new StateDir(parent.stateDir);
        Optional<LocalKeyPair> keys = LocalKeyPair.find(state.authDir());
        if (keys.isEmpty()) {
            err.println("petal token: no key pair in " + state.authDir() + " yet; ./petal up makes one");
            return 1;
        }
        out.println(keys.get().issuer().mint(subject(), asked, lifetime));
        return 0;
    }

    /** {@code 90s}, {@code 30m}, {@code 1h}, {@code 2d}: more than 0, at most {@link #MAX_TTL}. */
    static Duration parseTtl(String text) {
        Matcher m = TTL.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("--ttl must be a number and a unit (s, m, h or d), e.g. 30m or 1h; was '" + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
        if (d.isZero() || d.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("--ttl must be more than 0 and at most 7d; was '" + text + "'");
        }
        return d;
    }

    /** Who the token says it is for: the user who asked, as the services' logs would name them. */
    static String subject() {
        String user = System.getProperty("user.name");
        return user == null || user.isBlank() ? "petal-local" : user;
    }
}
