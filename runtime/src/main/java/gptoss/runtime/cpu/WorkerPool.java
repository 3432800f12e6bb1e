package gptoss.runtime.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A persistent pool of spinning worker threads for data-parallel loops. Dispatch costs about a microsecond
 * (an {@code ExecutorService} round trip costs tens of microseconds, too much for one matrix-vector product).
 * Workers spin briefly after each task and then park in short naps, so an idle pool costs almost nothing.
 * {@link #parallelFor} splits {@code [0, n)} into one contiguous range per thread, so each thread streams a
 * different part of memory.
 */
public final class WorkerPool implements AutoCloseable {
    private static final int SPIN_ITERATIONS = 20_000;
    private static final long NAP_NANOS = 200_000;

    /** A loop body over a range of indices. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile long generation;
    private volatile RangeTask task;
    private volatile int n;
    private volatile boolean closed;

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1");
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int index = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("gptoss-worker-" + index).start(() -> workLoop(index));
        }
    }

    /** A pool with one thread per available core. */
    public static WorkerPool ofAvailableCores() {
        return new WorkerPool(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code body} over {@code [0, n)} split across all threads; returns when every range is done. */
    public synchronized void parallelFor(int n, RangeTask body) {
        if (threads == 1 || n < 2 || Thread.currentThread().getName().startsWith("gptoss-worker-")) {
            body.run(0, n);
            return;
        }
        this.task = body;
        this.n = n;
        pending.set(workers.length);
        generation++;
        for (Thread w : workers) LockSupport.unpark(w);
        try {
            body.run(0, n / threads);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
        while (pending.get() != 0) Thread.onSpinWait();
        task = null;
        Throwable t = failure.getAndSet(null);
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error e) throw e;
        if (t != null) throw new IllegalStateException(t);
    }

    private void workLoop(int index) {
        long seen = 0;
        while (!closed) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < SPIN_ITERATIONS) Thread.onSpinWait();
                else LockSupport.parkNanos(NAP_NANOS);
            }
            if (closed) return;
            seen = generation;
            int count = n;
            try {
                int from = (int) ((long) count * index / threads);
                int to = (int) ((long) count * (index + 1) / threads);
                if (from < to) task.run(from, to);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
