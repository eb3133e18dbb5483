package dev.petal.tools.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The soak's bookkeeping, without Kafka: what counts as reconciled, and how outputs are matched to inputs. */
class SoakLedgerTest {
    private static final long MS = 1_000_000;

    @Test
    void everyInputBackOnceReconciles() {
        SoakLedger ledger = new SoakLedger();
        ledger.versionPublished("v0");
        ledger.sent("a", false, 0);
        ledger.sent("b", false, 10 * MS);
        ledger.sent("c", true, 20 * MS);
        ledger.prediction("a", "v0", 50 * MS);
        ledger.prediction("b", "v0", 80 * MS);
        ledger.deadLetter("c", "not-an-image", 30 * MS);
        SoakLedger.Tally t = ledger.tally();
        assertEquals(3, t.inputs());
        assertEquals(1, t.badInputs());
        assertEquals(2, t.predictions());
        assertEquals(1, t.deadLetters());
        assertEquals(0, t.missing());
        assertEquals(0, t.duplicates());
        assertTrue(t.reconciled());
        assertEquals(50.0, t.p(0.5));
        assertEquals(70.0, t.max());
        assertEquals(1, t.deadLettersByClass().get("not-an-image"));
    }

    @Test
    void missingAndDuplicatesDoNotReconcile() {
        SoakLedger ledger = new SoakLedger();
        ledger.sent("a", false, 0);
        ledger.sent("b", false, 0);
        ledger.prediction("a", "v0", MS);
        assertEquals(1, ledger.outstanding());
        assertFalse(ledger.tally().reconciled());

        ledger.prediction("b", "v0", MS);
        ledger.deadLetter("b", "x", 2 * MS); // b came back twice
        ledger.prediction("zzz", "v0", MS); // never sent: not ours to count
        SoakLedger.Tally t = ledger.tally();
        assertEquals(1, t.duplicates());
        assertEquals(2, t.predictions());
        assertEquals(0, t.deadLetters());
        assertEquals(1, t.unknownKeys());
        assertFalse(t.reconciled());
    }

    @Test
    void misroutedInputsAreCounted() {
        SoakLedger ledger = new SoakLedger();
        ledger.sent("good", false, 0);
        ledger.sent("bad", true, 0);
        ledger.deadLetter("good", "decode", MS);
        ledger.prediction("bad", "v0", MS);
        SoakLedger.Tally t = ledger.tally();
        assertTrue(t.reconciled()); // each came back once, even if not where expected
        assertEquals(1, t.goodToDeadLetters());
        assertEquals(1, t.badToPredictions());
    }

    @Test
    void versionsInOrderAndAnOlderOneAfterANewer() {
        SoakLedger ledger = new SoakLedger();
        ledger.versionPublished("v0");
        ledger.versionPublished("v1");
        for (int i = 0; i < 4; i++) {
            ledger.sent("k" + i, false, i * MS);
        }
        ledger.prediction("k0", "v0", 10 * MS);
        ledger.prediction("k1", "v1", 20 * MS);
        ledger.prediction("k2", "v0", 30 * MS); // scored by the old model after the new one was seen
        ledger.prediction("k3", "v1", 40 * MS);
        SoakLedger.Tally t = ledger.tally();
        assertEquals(1, t.olderVersionAfterNewer());
        assertEquals(2, t.predictionsByVersion().get("v0"));
        assertEquals(20 * MS, ledger.firstSeen("v1").readNanos());
        assertEquals(MS, ledger.firstSeen("v1").sentNanos());
    }

    @Test
    void latenciesBySendTime() {
        SoakLedger ledger = new SoakLedger();
        ledger.sent("early", false, 0);
        ledger.sent("late", false, 100 * MS);
        ledger.prediction("early", "v0", 10 * MS);
        ledger.prediction("late", "v0", 400 * MS);
        assertEquals(1, ledger.predictionLatencies(sent -> sent < 50 * MS).length);
        assertEquals(300.0, ledger.predictionLatencies(sent -> sent >= 50 * MS)[0]);
    }

    @Test
    void aFailedSendIsNoInput() {
        SoakLedger ledger = new SoakLedger();
        ledger.sent("a", true, 0);
        ledger.sendFailed("a");
        SoakLedger.Tally t = ledger.tally();
        assertEquals(0, t.inputs());
        assertEquals(0, t.badInputs());
        assertEquals(1, t.sendFailures());
        assertTrue(t.reconciled());
    }

    @Test
    void percentilesAreNearestRank() {
        double[] v = new double[100];
        for (int i = 0; i < 100; i++) {
            v[i] = i + 1;
        }
        assertEquals(50.0, SoakLedger.percentile(v, 0.50));
        assertEquals(99.0, SoakLedger.percentile(v, 0.99));
        assertTrue(Double.isNaN(SoakLedger.percentile(new double[0], 0.5)));
    }

    @Test
    void heapFromPrometheusText() {
        String text = """
                # HELP jvm_memory_used_bytes The amount of used memory
                jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1.0E7
                jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 2.5E7
                jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 9.0E7
                jvm_memory_committed_bytes{area="heap",id="G1 Old Gen"} 6.0E7
                """;
        assertEquals(35_000_000L, ProcessProbe.heapUsed(text).getAsLong());
        assertEquals(60_000_000L, ProcessProbe.heapSum(text, "jvm_memory_committed_bytes{").getAsLong());
        assertTrue(ProcessProbe.heapUsed("nothing").isEmpty());
    }

    @Test
    void ownProcessIsReadable() {
        ProcessProbe self = new ProcessProbe(ProcessHandle.current().pid(), null);
        assertTrue(self.alive());
        if (java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/self"))) {
            assertTrue(self.rssBytes().getAsLong() > 1_000_000);
            assertTrue(self.cpuSeconds().getAsDouble() >= 0);
        }
    }

    @Test
    void durations() {
        SoakCommand.DurationConverter c = new SoakCommand.DurationConverter();
        assertEquals(Duration.ofMinutes(2), c.convert("2m"));
        assertEquals(Duration.ofSeconds(20), c.convert("20s"));
        assertEquals(Duration.ofSeconds(20), c.convert("20"));
        assertEquals(Duration.ofMillis(500), c.convert("500ms"));
        assertEquals(Duration.ofSeconds(90), c.convert("1.5m"));
        assertEquals(Duration.ofMinutes(2), c.convert("PT2M"));
        assertThrows(CommandLine.TypeConversionException.class, () -> c.convert("soon"));
    }
}
