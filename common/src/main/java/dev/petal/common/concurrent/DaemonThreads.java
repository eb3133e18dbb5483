package dev.petal.common.concurrent;

import java.util.concurrent.ThreadFactory;

/** Threads that never keep the JVM alive on their own: a service's shutdown closes their pools, a CLI exits past them. */
public final class DaemonThreads {

    private DaemonThreads() {
    }

    /** A factory of daemon threads that all carry {@code name}, so thread dumps and profiles say which pool is which. */
    public static ThreadFactory named(String name) {
        return task -> {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
