package gptoss.runtime.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A persistent pool of spinning worker threads for data-parallel loops. Dispatch costs about a microsecond
 * (an {@code ExecutorService} round trip costs tens of microseconds, too much for one matrix-vector product).
 * Workers spin briefly after each task and then park in short naps, so an idle pool costs almost nothing.
 *
 * <p>{@link #run} cuts {@code [0, n)} into contiguous chunks of {@code grain} indices that the calling thread
 * and the workers claim in order, so each thread streams its own stretch of memory and a thread slowed down by
 * the shared machine simply claims fewer chunks. Dispatch allocates nothing: tasks are long-lived objects whose
 * fields the caller sets before each call.
 */
public final class WorkerPool implements AutoCloseable {
    private static final int SPIN_ITERATIONS = 50_000;
    private static final long NAP_NANOS = 200_000;
    private static final int YIELD_AFTER_SPINS = 2_000;
    private static final String WORKER_PREFIX = "gptoss-worker-";

    /** A loop body over a range of indices. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    /** A loop body that also learns which thread runs it (0 = the caller), to pick its own scratch memory. */
    @FunctionalInterface
    public interface Task {
        void run(int thread, int from, int to);
    }

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger nextChunk = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile long generation;
    private volatile Task task;
    private volatile int n;
    private volatile int grain;
    private volatile boolean closed;

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1");
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int index = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name(WORKER_PREFIX + index).start(() -> workLoop(index));
        }
    }

    /** A pool with one thread per available core. */
    public static WorkerPool ofAvailableCores() {
        return new WorkerPool(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /** The worker threads (not the caller), e.g. to measure what they allocate. */
    public Thread[] workerThreads() {
        return workers.clone();
    }

    /** Runs {@code body} over {@code [0, n)} split into one contiguous range per thread. */
    public void parallelFor(int n, RangeTask body) {
        run(n, Math.max(1, (n + threads - 1) / threads), (thread, from, to) -> body.run(from, to));
    }

    /**
     * Runs {@code body} over {@code [0, n)} in chunks of {@code grain} indices claimed by all threads; returns when
     * every chunk is done. Calls from inside a task run inline on the calling thread.
     */
    public synchronized void run(int n, int grain, Task body) {
        if (grain < 1) throw new IllegalArgumentException("grain must be >= 1");
        if (n <= 0) return;
        if (threads == 1 || n <= grain || Thread.currentThread().getName().startsWith(WORKER_PREFIX)) {
            body.run(0, 0, n);
            return;
        }
        this.task = body;
        this.n = n;
        this.grain = grain;
        nextChunk.set(0);
        pending.set(workers.length);
        generation++;
        for (Thread w : workers) LockSupport.unpark(w);
        try {
            claimChunks(0, body, n, grain);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            nextChunk.set(Integer.MAX_VALUE / 2); // let the workers stop early
        }
        // Wait for workers still finishing a chunk. On a busy machine a worker may have been preempted: after
        // a short spin, yield so it can run (possibly on this core).
        for (int spins = 0; pending.get() != 0; spins++) {
            if (spins < YIELD_AFTER_SPINS) Thread.onSpinWait();
            else Thread.yield();
        }
        task = null;
        Throwable t = failure.getAndSet(null);
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error e) throw e;
        if (t != null) throw new IllegalStateException(t);
    }

    private void claimChunks(int thread, Task body, int count, int size) {
        int chunks = (count + size - 1) / size;
        for (int c = nextChunk.getAndIncrement(); c < chunks; c = nextChunk.getAndIncrement()) {
            int from = c * size;
            body.run(thread, from, Math.min(count, from + size));
        }
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
            try {
                claimChunks(index, task, n, grain);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
                nextChunk.set(Integer.MAX_VALUE / 2);
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
