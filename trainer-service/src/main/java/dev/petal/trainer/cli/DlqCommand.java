package dev.petal.trainer.cli;

import dev.petal.common.records.DeadLetterReplay;
import dev.petal.trainer.registry.DlqResource;
import dev.petal.trainer.service.TrainerConfig;
import jakarta.inject.Inject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./petal dlq list|replay}: dead letters counted, sampled and replayed to their source topics ({@link DeadLetterReplay}). */
@Command(name = "dlq", mixinStandardHelpOptions = true, description = "Dead letters on petal.dlq: list them, replay them to the topic they came from.",
        subcommands = {DlqCommand.ListDeadLetters.class, DlqCommand.Replay.class})
public class DlqCommand {

    static class Filter {
        @Option(names = "--error-class", paramLabel = "C", description = "Only dead letters of this error class (e.g. claim-check-unreachable).")
        String errorClass;
        @Option(names = "--since", paramLabel = "T", description = "Only dead letters written at or after T (ISO-8601, e.g. 2026-12-02T08:00:00Z).")
        String since;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Counts per error class and the newest samples.")
    static class ListDeadLetters implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Filter filter = new Filter();
        @Option(names = "--limit", defaultValue = "10", description = "Samples to show (default: ${DEFAULT-VALUE}).")
        int limit;
        @Inject
        TrainerConfig config;

        @Override
        public Integer call() throws Exception {
            return LifecycleCommand.run("dlq list", config, l -> {
                DeadLetterReplay.Listing listing = l.deadLetters().list(DlqResource.filter(filter.errorClass, filter.since), limit);
                if (listing.counts().isEmpty()) {
                    System.out.println("no dead letters match");
                    return 0;
                }
                listing.counts().forEach((c, n) -> System.out.printf("%-28s %d%n", c, n));
                System.out.println("samples (newest last):");
                for (DeadLetterReplay.Sample s : listing.samples()) {
                    System.out.printf("  %s %s:%s:%s key %s [%s] %s%n", s.at(), s.sourceTopic(), s.partition(), s.offset(), s.key(), s.errorClass(),
                            s.reason());
                }
                return 0;
            });
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true, description = "Re-publish the matching dead letters to their source topic with"
            + " their key, value and headers (error headers removed, replayed-from added), each at most once.")
    static class Replay implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Filter filter = new Filter();
        @Option(names = "--dry-run", description = "Count what would be replayed; publish nothing.")
        boolean dryRun;
        @Inject
        TrainerConfig config;

        @Override
        public Integer call() throws Exception {
            return LifecycleCommand.run("dlq replay", config, l -> {
                DeadLetterReplay.Outcome outcome = l.deadLetters().replay(DlqResource.filter(filter.errorClass, filter.since), dryRun);
                System.out.printf("%d dead letters match and were not replayed before; %s%n", outcome.matched(),
                        dryRun ? "nothing published (--dry-run)" : outcome.replayed() + " replayed");
                return 0;
            });
        }
    }
}
