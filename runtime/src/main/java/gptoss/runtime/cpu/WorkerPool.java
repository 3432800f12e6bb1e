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
    private volatile int quantum; // 0: chunks of grain; > 0: guided claims (see runGuided)
    private volatile boolean closed;
    // Dispatch timing (only with timing on, see setTiming): when the caller dispatched, when each worker took the
    // task and when each thread finished its last claim; summed per dispatch into the totals below.
    private volatile boolean timing;
    private final long[] startedAt, finishedAt;
    private long dispatchedAt, dispatches, startLagNanos, endIdleNanos;

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1");
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.startedAt = new long[threads * 8];   // one cache line per thread
        this.finishedAt = new long[threads * 8];
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
    public void run(int n, int grain, Task body) {
        dispatch(n, grain, 0, body);
    }

    /**
     * Runs {@code body} over {@code [0, n)} in claims that shrink as the work runs out: each claim takes a quarter of
     * what is left divided by the threads ({@code (n - next) / (2·threads)}), rounded down to whole {@code quantum}s,
     * at least one quantum and at most {@code grain} indices (whole quanta as well). So the threads stream long
     * stretches while there is much to do, and the last claims are short: a thread that finishes its last claim waits
     * about one quantum for the others instead of up to a whole {@code grain} (threads that run in step finish their
     * last full-sized claims together, and one of them then takes the final one alone). Which thread runs which
     * indices changes nothing else; the claims are whole quanta starting at multiples of {@code quantum}.
     */
    public void runGuided(int n, int quantum, int grain, Task body) {
        if (quantum < 1 || grain < quantum || grain % quantum != 0) {
            throw new IllegalArgumentException("quantum " + quantum + " and grain " + grain + ": need 1 <= quantum <= grain, grain a multiple of quantum");
        }
        dispatch(n, grain, quantum, body);
    }

    private synchronized void dispatch(int n, int grain, int quantum, Task body) {
        if (grain < 1) throw new IllegalArgumentException("grain must be >= 1");
        if (n <= 0) return;
        if (threads == 1 || n <= grain || Thread.currentThread().getName().startsWith(WORKER_PREFIX)) {
            body.run(0, 0, n);
            return;
        }
        this.task = body;
        this.n = n;
        this.grain = grain;
        this.quantum = quantum;
        nextChunk.set(0);
        pending.set(workers.length);
        boolean timed = timing;
        if (timed) dispatchedAt = System.nanoTime();
        generation++;
        for (Thread w : workers) LockSupport.unpark(w);
        try {
            claim(0, body, n, grain, quantum);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            nextChunk.set(Integer.MAX_VALUE / 2); // let the workers stop early
        }
        if (timed) finishedAt[0] = System.nanoTime();
        // Wait for workers still finishing a chunk. On a busy machine a worker may have been preempted: after
        // a short spin, yield so it can run (possibly on this core).
        for (int spins = 0; pending.get() != 0; spins++) {
            if (spins < YIELD_AFTER_SPINS) Thread.onSpinWait();
            else Thread.yield();
        }
        task = null;
        if (timed) addTiming();
        Throwable t = failure.getAndSet(null);
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error e) throw e;
        if (t != null) throw new IllegalStateException(t);
    }

    private void claim(int thread, Task body, int count, int size, int quantum) {
        if (quantum == 0) claimChunks(thread, body, count, size);
        else claimGuided(thread, body, count, size, quantum);
    }

    /** Guided claims (runGuided): nextChunk holds the next index; 2·threads·quantum left or less go one quantum at a time. */
    private void claimGuided(int thread, Task body, int count, int max, int quantum) {
        int share = 2 * threads * quantum;
        for (int from = nextChunk.get(); from < count; from = nextChunk.get()) {
            int size = Math.clamp((long) (count - from) / share * quantum, quantum, max);
            int to = Math.min(count, from + size);
            if (nextChunk.compareAndSet(from, to)) body.run(thread, from, to);
        }
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
            boolean timed = timing;
            if (timed) startedAt[index * 8] = System.nanoTime();
            try {
                claim(index, task, n, grain, quantum);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
                nextChunk.set(Integer.MAX_VALUE / 2);
            } finally {
                if (timed) finishedAt[index * 8] = System.nanoTime();
                pending.decrementAndGet();
            }
        }
    }

    /**
     * Turns dispatch timing on or off (off by default; on, each dispatch reads the clock once per thread at its start
     * and end). Call between dispatches.
     */
    public void setTiming(boolean on) {
        timing = on;
    }

    /**
     * Dispatch timing since the last call ({@link #setTiming}): {@code [dispatches, start lag, end idle]}, the lag
     * and idle in nanoseconds summed over dispatches. Start lag: from the caller's dispatch to each worker taking
     * the task (summed over workers). End idle: from each thread's last finished claim to the last thread's (summed
     * over threads): what the threads spend waiting for each other at the end of a dispatch.
     */
    public synchronized long[] drainTiming() {
        long[] t = {dispatches, startLagNanos, endIdleNanos};
        dispatches = startLagNanos = endIdleNanos = 0;
        return t;
    }

    private void addTiming() {
        long last = 0;
        for (int i = 0; i < threads; i++) last = Math.max(last, finishedAt[i * 8]);
        for (int i = 0; i < threads; i++) endIdleNanos += last - finishedAt[i * 8];
        for (int i = 1; i < threads; i++) startLagNanos += Math.max(0, startedAt[i * 8] - dispatchedAt);
        dispatches++;
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
