package gptoss.bench;

import gptoss.runtime.cpu.WorkerPool;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Floating-point operations per CPU-second of the threads that did the work (the caller and the pool's workers,
 * spin-waits included): the rate while the threads actually ran, which a shared machine's time slicing does not
 * dilute as it does the wall-clock {@link Traffic} rates. Printed at the end of each trial
 * ({@code CPU-time rate: ...}); with one thread it is the per-core rate exactly, with more a thread that waits for
 * a descheduled one spins and lowers it.
 */
final class CpuRate {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    private final WorkerPool pool;
    private long flops, cpuNanos, start;

    CpuRate(WorkerPool pool) {
        this.pool = pool;
    }

    private long cpuTime() {
        long t = MX.getCurrentThreadCpuTime();
        for (Thread w : pool.workerThreads()) t += Math.max(0, MX.getThreadCpuTime(w.threadId()));
        return t;
    }

    void begin() {
        start = cpuTime();
    }

    void end(long operations) {
        cpuNanos += cpuTime() - start;
        flops += operations;
    }

    /** Prints the rate over everything measured since the trial began (warm-up included). */
    void print(String what) {
        System.out.printf("%nCPU-time rate: %s %.1f GFLOP per CPU-second of its %d thread(s)%n", what,
                cpuNanos == 0 ? 0 : (double) flops / cpuNanos, pool.threads());
    }
}
