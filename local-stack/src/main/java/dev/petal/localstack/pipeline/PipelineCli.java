package dev.petal.localstack.pipeline;

import dev.petal.localstack.Listening;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import dev.petal.common.cli.UserErrors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code ./petal up|down|status|demo|token}: the local pipeline on the embedded stack. */
@Command(name = "petal", mixinStandardHelpOptions = true, version = "Petal 0.1.0",
        description = "The local pipeline: embedded Kafka and S3 plus the services and the console.",
        subcommands = {PipelineCli.Up.class, PipelineCli.Down.class, PipelineCli.Status.class, DemoCommand.class, TokenCommand.class,
                ConsoleCommand.class})
public final class PipelineCli {
    @Option(names = "--state-dir", defaultValue = "${env:PETAL_STATE_DIR:-.petal}",
            description = "Where the stack keeps its data, addresses and logs (default: ${DEFAULT-VALUE}).", scope = CommandLine.ScopeType.INHERIT)
    Path stateDir;

    @Option(names = "--root", defaultValue = "${sys:petal.root:-.}", hidden = true, scope = CommandLine.ScopeType.INHERIT)
    Path root;

    LocalPipeline pipeline() {
        return new LocalPipeline(new StateDir(stateDir), root, System.out);
    }

    public static void main(String[] args) {
        // The demo's Kafka clients would print their whole configuration at INFO.
        dev.petal.localstack.QuietLogging.apply();
        System.exit(UserErrors.install(new CommandLine(new PipelineCli())).execute(args));
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Start the embedded Kafka and S3 and the three services on 127.0.0.1; print their addresses."
                    + " The APIs take tokens of ./petal token.")
    static final class Up implements Callable<Integer> {
        @ParentCommand
        PipelineCli parent;

        @Option(names = "--secure", description = "Kafka with SCRAM-SHA-512 logins and ACLs: each service logs in as its own"
                + " principal and may do only what docs/security.md grants it; commands log in as the stack's admin.")
        boolean secure;

        @Option(names = "--bind", paramLabel = "ADDRESS",
                description = "Listen on ADDRESS instead of 127.0.0.1 (an interface's IPv4 address, or 0.0.0.0 for all):"
                        + " other machines can then reach Kafka, S3 and the APIs.")
        String bind;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Listening listening = null;
            if (bind != null) {
                try {
                    listening = Listening.on(bind);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
                }
            }
            parent.pipeline().up(new LocalPipeline.Options(secure, listening));
            return 0;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true, description = "Stop the services and the stack (data is kept).")
    static final class Down implements Callable<Integer> {
        @ParentCommand
        PipelineCli parent;

        @Override
        public Integer call() throws Exception {
            if (parent.pipeline().down() == 0) {
                System.out.println("petal: nothing was running");
            }
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show what runs: stack and services, with their health. Exit 0 when all are up, 3 otherwise.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        PipelineCli parent;

        @Override
        public Integer call() {
            StateDir state = new StateDir(parent.stateDir);
            Properties stack = state.stack().orElse(new Properties());
            boolean stackUp = StateDir.alive(stack.getProperty("pid"));
            System.out.printf("%-10s %-5s %s%n", "stack", stackUp ? "up" : "down",
                    stackUp ? "kafka " + stack.getProperty("kafka") + ", s3 " + stack.getProperty("s3")
                            + (state.secure() ? ", secure (SCRAM logins, ACLs)" : "") : "");
            Properties services = state.services().orElse(new Properties());
            boolean all = stackUp;
            for (LocalPipeline.Service service : LocalPipeline.SERVICES) {
                String pid = services.getProperty(service.name() + ".pid");
                String port = services.getProperty(service.name() + ".port");
                boolean alive = StateDir.alive(pid);
                String health = "";
                if (alive) {
                    String management = LocalPipeline.managementPort(services, service.name());
                    String host = services.getProperty("host", "127.0.0.1");
                    int ready = ServiceProcess.status("http://" + host + ":" + management + "/q/health/ready");
                    health = "http://" + host + ":" + port + (ready == 200 ? "  ready" : "  not ready (HTTP " + ready + ")");
                }
                System.out.printf("%-10s %-5s %s%n", service.name(), alive ? "up" : "down", health);
                all &= alive;
            }
            return all ? 0 : 3;
        }
    }
}
