package dev.petal.inference.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ThreadCpuTest {

    @Test
    void readsTheFirstSchedstatFieldAsNanosecondsOnACpu() {
        // proc(5): /proc/<pid>/task/<tid>/schedstat is "time on cpu (ns), time waiting on a runqueue (ns), timeslices run".
        assertEquals(695518005L, ThreadCpu.onCpuNanos("695518005 121379113 681\n"));
    }

    @Test
    void groupsThreadsByTheNamesTheyCarry() {
        // comm holds 15 characters: HotSpot's "C2 CompilerThread0" reads "C2 CompilerThre".
        assertEquals("jit", ThreadCpu.group("C2 CompilerThre", "java"));
        assertEquals("jit", ThreadCpu.group("C1 CompilerThre", "java"));
        assertEquals("gc", ThreadCpu.group("VM Thread", "java"));
        assertEquals("gc", ThreadCpu.group("GC Thread#0", "java"));
        assertEquals("model", ThreadCpu.group("java", "java"));
        assertEquals("model", ThreadCpu.group("petal-model", "java"));
        assertEquals("decode", ThreadCpu.group("petal-decode-1", "java"));
        assertEquals("kafkaClients", ThreadCpu.group("kafka-producer-", "java"));
        assertEquals("kafkaClients", ThreadCpu.group("smallrye-kafka-", "java"));
        assertEquals("benchDriver", ThreadCpu.group(ThreadCpu.DRIVER, "java"));
        assertEquals("otherThreads", ThreadCpu.group("executor-thread", "java"));
    }

    @Test
    void countsABusyThreadsTimeInItsGroupAsTheJvmsOwnThreadClockDoes() throws Exception {
        Optional<ThreadCpu.Snapshot> before = ThreadCpu.take();
        assumeTrue(before.isPresent(), "no /proc/self/task/*/schedstat here (not Linux)");
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        AtomicLong jvmClock = new AtomicLong();
        CountDownLatch snapshotTaken = new CountDownLatch(1);
        Thread busy = new Thread(() -> {
            long until = System.nanoTime() + 300_000_000L;
            double sink = 0;
            while (System.nanoTime() < until) {
                sink += Math.sqrt(sink + 1);
            }
            jvmClock.set(threads.getCurrentThreadCpuTime());
            try {
                snapshotTaken.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (sink < 0) {
                throw new AssertionError();
            }
        }, "petal-decode-test");
        busy.start();
        // Read while the thread is done but alive: a thread that has ended leaves /proc/self/task.
        while (jvmClock.get() == 0) {
            Thread.sleep(5);
        }
        Optional<ThreadCpu.Snapshot> after = ThreadCpu.take();
        snapshotTaken.countDown();
        busy.join();
        Map<String, Double> seconds = ThreadCpu.secondsByGroup(before.get(), after.orElseThrow(), ThreadCpu.processName());
        double expected = jvmClock.get() / 1e9;
        assertTrue(expected > 0.05, "the busy thread ran " + expected + " s of CPU");
        assertEquals(expected, seconds.get("decode"), expected * 0.2 + 0.02, "decode group " + seconds);
    }
}
