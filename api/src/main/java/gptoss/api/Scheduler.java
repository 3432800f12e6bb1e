package gptoss.api;

import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Sequence;
import gptoss.sampling.StopReason;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Continuous batching: one thread owns the {@link Engine} and runs every request. Each step of its loop
 * <ol>
 *   <li>admits waiting requests while fewer than {@code maxSequences} run (taking a cached prefix when one fits),</li>
 *   <li>feeds one prompt chunk of one request that is still reading its prompt, so a long prompt never stalls
 *       the running streams for more than a chunk,</li>
 *   <li>decodes one token for every request past its prompt in a single {@link Engine#decode} call, so each
 *       weight is read once per step for the whole batch,</li>
 * </ol>
 * and drops finished or cancelled requests, freeing their KV cache at once (or keeping a finished one for prefix
 * reuse, bounded and least-recently-used). Each request has its own sequence and its own {@link TokenSelector}:
 * the engine's rows are independent, so a seeded request gives the same tokens alone or among others.
 * Listeners run on the scheduler thread and must return quickly (hand tokens to another thread to do I/O).
 */
public final class Scheduler implements AutoCloseable {

    /** The waiting queue is full: try again later (HTTP 429). */
    public static final class QueueFullException extends RuntimeException {
        public QueueFullException(int capacity) {
            super("the request queue is full (" + capacity + " waiting); try again later");
        }
    }

    /**
     * What to generate: continue {@code prompt} with up to {@code maxTokens} tokens, ending after a token of
     * {@code stopTokens}.
     */
    public record Request(int[] prompt, int maxTokens, Set<Integer> stopTokens, TokenSelector selector) {
        public Request {
            if (prompt.length == 0) throw new IllegalArgumentException("empty prompt");
            if (maxTokens < 1) throw new IllegalArgumentException("max tokens must be >= 1");
            prompt = prompt.clone();
            stopTokens = Set.copyOf(stopTokens);
        }
    }

    /** Sees each generated token, on the scheduler thread; returns false to stop the generation there. */
    @FunctionalInterface
    public interface TokenListener {
        boolean onToken(int token);
    }

    /**
     * A finished generation.
     *
     * @param tokens       the generated ids (the stop token included when one ended it)
     * @param cachedTokens prompt tokens taken from the prefix cache instead of being computed
     * @param queueNanos   time waiting for a batch slot
     * @param promptNanos  from admission to the first generated token
     * @param generateNanos from the first generated token to the end
     */
    public record Result(int[] tokens, StopReason reason, int promptTokens, int cachedTokens, long queueNanos,
                         long promptNanos, long generateNanos) {
        public double generatedTokensPerSecond() {
            return generateNanos == 0 || tokens.length <= 1 ? 0 : (tokens.length - 1) * 1e9 / generateNanos;
        }

        public double promptTokensPerSecond() {
            return promptNanos == 0 ? 0 : (promptTokens - cachedTokens) * 1e9 / promptNanos;
        }
    }

    /** A submitted request: cancel it, or wait for its {@link #result()}. */
    public static final class Job {
        private final Request request;
        private final TokenListener listener;
        private final CompletableFuture<Result> result = new CompletableFuture<>();
        private final long submitted = System.nanoTime();
        private volatile boolean cancelled;
        // scheduler-thread state
        private Sequence sequence;
        private int fed, cached, count, pending = -1;
        private int[] out;
        private long admitted, firstToken;

        private Job(Request request, TokenListener listener) {
            this.request = request;
            this.listener = listener;
        }

        /** Stops the generation at the next step; its KV cache is freed then. */
        public void cancel() {
            cancelled = true;
        }

        public boolean isCancelled() {
            return cancelled;
        }

        public CompletableFuture<Result> result() {
            return result;
        }

        /** Blocks until the generation ends; rethrows what failed it. */
        public Result await() {
            try {
                return result.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) throw r;
                throw e;
            }
        }
    }

    private final Engine engine;
    private final int maxSequences, queueCapacity, chunk;
    private final PrefixCache prefixes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final List<Job> active = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile int activeCount;
    private volatile long kvBytes;
    private final AtomicLong generated = new AtomicLong(), prompted = new AtomicLong(), reused = new AtomicLong(),
            completed = new AtomicLong(), decodeSteps = new AtomicLong(), decodeRows = new AtomicLong();
    private float[] chunkLogits;

    public Scheduler(Engine engine, int maxSequences, int queueCapacity, int prefillChunk, int prefixEntries, long prefixBytes) {
        if (maxSequences < 1) throw new IllegalArgumentException("max sequences must be >= 1");
        this.engine = engine;
        this.maxSequences = maxSequences;
        this.queueCapacity = queueCapacity;
        this.chunk = prefillChunk;
        this.prefixes = new PrefixCache(prefixEntries, prefixBytes);
        this.chunkLogits = new float[engine.config().vocabSize()];
        this.thread = Thread.ofPlatform().name("gptoss-scheduler").daemon().unstarted(this::loop);
        thread.start();
    }

    /**
     * Queues a request. Throws {@link QueueFullException} when {@code queueCapacity} requests already wait, and
     * {@link IllegalArgumentException} when prompt and budget cannot fit the context.
     */
    public Job submit(Request request, TokenListener listener) {
        if (request.prompt().length >= engine.maxContext()) {
            throw new IllegalArgumentException("the prompt has " + request.prompt().length + " tokens; the context holds "
                    + engine.maxContext() + " (at least one must be left to generate)");
        }
        engine.checkTokens(request.prompt());
        Job job = new Job(request, listener);
        lock.lock();
        try {
            if (!running) throw new IllegalStateException("the scheduler is closed");
            if (queue.size() >= queueCapacity + Math.max(0, maxSequences - activeCount)) throw new QueueFullException(queueCapacity);
            queue.add(job);
            work.signal();
        } finally {
            lock.unlock();
        }
        return job;
    }

    public int maxContext() {
        return engine.maxContext();
    }

    public int maxSequences() {
        return maxSequences;
    }

    /** Requests waiting for a batch slot. */
    public int queueDepth() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** Sequences in the running batch. */
    public int activeSequences() {
        return activeCount;
    }

    /** KV-cache bytes held by running sequences and cached prefixes (as of the last step). */
    public long kvCacheBytes() {
        return kvBytes;
    }

    public int cachedPrefixes() {
        return prefixes.size();
    }

    public long generatedTokens() {
        return generated.get();
    }

    public long promptTokens() {
        return prompted.get();
    }

    public long reusedPromptTokens() {
        return reused.get();
    }

    public long completedRequests() {
        return completed.get();
    }

    /** Decode steps run, and the rows they held in all (rows / steps = mean batch size). */
    public long decodeSteps() {
        return decodeSteps.get();
    }

    public long decodeRows() {
        return decodeRows.get();
    }

    private void loop() {
        while (running) {
            try {
                if (!admit()) continue;
                dropCancelled();
                prefillOne();
                decodeAll();
                updateGauges();
            } catch (RuntimeException | Error e) {
                failAll(e);
            }
        }
        failAll(new IllegalStateException("the scheduler is closed"));
        lock.lock();
        try {
            for (Job j : queue) j.result.completeExceptionally(new IllegalStateException("the scheduler is closed"));
            queue.clear();
        } finally {
            lock.unlock();
        }
        prefixes.clear();
    }

    /** Moves waiting jobs into the batch; waits when there is nothing to do. Returns false to re-check running. */
    private boolean admit() {
        lock.lock();
        try {
            while (active.size() < maxSequences && !queue.isEmpty()) {
                Job j = queue.poll();
                if (j.cancelled) {
                    j.result.complete(new Result(new int[0], StopReason.CANCELLED, j.request.prompt().length, 0,
                            System.nanoTime() - j.submitted, 0, 0));
                    continue;
                }
                start(j);
            }
            activeCount = active.size();
            if (active.isEmpty()) {
                updateGauges();
                work.await(200, TimeUnit.MILLISECONDS);
                return false;
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
            return false;
        } finally {
            lock.unlock();
        }
    }

    private void start(Job j) {
        j.admitted = System.nanoTime();
        int[] prompt = j.request.prompt();
        PrefixCache.Hit hit = prefixes.take(prompt);
        if (hit != null) {
            j.sequence = hit.sequence();
            j.fed = j.cached = hit.length();
        } else {
            j.sequence = engine.newSequence();
        }
        j.out = new int[Math.min(j.request.maxTokens(), engine.maxContext() - prompt.length)];
        active.add(j);
        reused.addAndGet(j.cached);
    }

    private void dropCancelled() {
        for (Iterator<Job> it = active.iterator(); it.hasNext(); ) {
            Job j = it.next();
            if (j.cancelled) {
                it.remove();
                finish(j, StopReason.CANCELLED, false);
            }
        }
        activeCount = active.size();
    }

    /** One chunk of the oldest job still reading its prompt. */
    private void prefillOne() {
        for (Job j : active) {
            int[] prompt = j.request.prompt();
            if (j.fed >= prompt.length) continue;
            int n = Math.min(chunk, prompt.length - j.fed);
            engine.forward(j.sequence, Arrays.copyOfRange(prompt, j.fed, j.fed + n), false, chunkLogits);
            j.fed += n;
            prompted.addAndGet(n);
            if (j.fed == prompt.length) {
                j.firstToken = System.nanoTime();
                take(j, chunkLogits, 0);
            }
            return;
        }
    }

    /** One token for every job past its prompt, all in one engine step. */
    private void decodeAll() {
        int n = 0;
        for (Job j : active) if (j.pending >= 0) n++;
        if (n == 0) return;
        Sequence[] sequences = new Sequence[n];
        int[] tokens = new int[n];
        Job[] jobs = new Job[n];
        int i = 0;
        for (Job j : active) {
            if (j.pending < 0) continue;
            jobs[i] = j;
            sequences[i] = j.sequence;
            tokens[i++] = j.pending;
        }
        float[] logits = engine.decode(sequences, tokens);
        decodeSteps.incrementAndGet();
        decodeRows.addAndGet(n);
        int V = engine.config().vocabSize();
        for (i = 0; i < n; i++) take(jobs[i], logits, i * V);
    }

    /** Picks a job's next token from its logits row, tells its listener, and ends the job or queues the token. */
    private void take(Job j, float[] logits, int offset) {
        j.pending = -1;
        TokenSelector selector = j.request.selector();
        int token;
        try {
            selector.setRemainingTokens(j.out.length - j.count);
            token = selector.select(logits, offset, engine.config().vocabSize());
            selector.accept(token);
        } catch (RuntimeException e) { // this request's sampler or constraint failed: it alone ends
            active.remove(j);
            j.sequence.close();
            j.result.completeExceptionally(e);
            return;
        }
        j.out[j.count++] = token;
        generated.incrementAndGet();
        try {
            if (!j.listener.onToken(token)) j.cancelled = true;
        } catch (RuntimeException e) {
            active.remove(j);
            j.sequence.close();
            j.result.completeExceptionally(e);
            return;
        }
        StopReason reason = null;
        if (j.cancelled) reason = StopReason.CANCELLED;
        else if (j.request.stopTokens().contains(token)) reason = StopReason.STOP_TOKEN;
        else if (selector.isTerminated()) reason = StopReason.CONSTRAINT_COMPLETE;
        else if (j.count == j.request.maxTokens()) reason = StopReason.MAX_TOKENS;
        else if (j.count == j.out.length || j.sequence.length() + 1 > engine.maxContext()) reason = StopReason.CONTEXT_FULL;
        if (reason == null) {
            j.pending = token;
            return;
        }
        active.remove(j);
        finish(j, reason, reason != StopReason.CANCELLED);
    }

    /** Completes a job that left the batch: its sequence goes to the prefix cache (when kept) or is freed. */
    private void finish(Job j, StopReason reason, boolean keep) {
        long now = System.nanoTime();
        int[] tokens = Arrays.copyOf(j.out, j.count);
        if (keep && prefixes.enabled() && j.fed == j.request.prompt().length) {
            // the cache holds the prompt and every generated token but the last (never fed)
            int[] held = Arrays.copyOf(j.request.prompt(), j.sequence.length());
            System.arraycopy(tokens, 0, held, j.request.prompt().length, j.sequence.length() - j.request.prompt().length);
            prefixes.put(held, j.sequence);
        } else {
            j.sequence.close();
        }
        j.sequence = null;
        completed.incrementAndGet();
        activeCount = active.size();
        updateGauges();
        long first = j.firstToken == 0 ? now : j.firstToken;
        j.result.complete(new Result(tokens, reason, j.request.prompt().length, j.cached, j.admitted - j.submitted,
                first - j.admitted, now - first));
    }

    private void failAll(Throwable e) {
        for (Job j : active) {
            if (j.sequence != null) j.sequence.close();
            j.result.completeExceptionally(e);
        }
        active.clear();
        activeCount = 0;
    }

    private void updateGauges() {
        long bytes = prefixes.bytes();
        for (Job j : active) bytes += j.sequence.cacheBytes();
        kvBytes = bytes;
    }

    /** Stops the loop; running and waiting requests fail. */
    @Override
    public void close() {
        running = false;
        lock.lock();
        try {
            work.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Finished sequences kept with the tokens their caches hold, least recently used first. A new prompt takes the
     * entry sharing its longest prefix, rewound to that prefix (a sliding-window cache that cannot rewind that far
     * is dropped instead).
     */
    static final class PrefixCache {
        record Entry(int[] tokens, Sequence sequence) {
        }

        record Hit(Sequence sequence, int length) {
        }

        /** Shorter shared prefixes (every Harmony prompt starts alike) are not worth giving up a cached entry for. */
        static final int MIN_REUSE = 8;
        private final int maxEntries;
        private final long maxBytes;
        private final LinkedList<Entry> entries = new LinkedList<>();
        private volatile int size;
        private volatile long bytes;

        PrefixCache(int maxEntries, long maxBytes) {
            this.maxEntries = maxEntries;
            this.maxBytes = maxBytes;
        }

        boolean enabled() {
            return maxEntries > 0;
        }

        int size() {
            return size;
        }

        long bytes() {
            return bytes;
        }

        Hit take(int[] prompt) {
            Entry best = null;
            int bestLength = 0;
            for (Entry e : entries) {
                int common = 0, limit = Math.min(e.tokens.length, prompt.length - 1); // one prompt token must be fed
                while (common < limit && e.tokens[common] == prompt[common]) common++;
                if (common > bestLength) {
                    best = e;
                    bestLength = common;
                }
            }
            if (best == null || (bestLength < MIN_REUSE && bestLength < prompt.length - 1)) return null;
            entries.remove(best);
            recount();
            try {
                best.sequence.truncate(bestLength);
                return new Hit(best.sequence, bestLength);
            } catch (IllegalStateException cannotRewind) {
                best.sequence.close();
                return null;
            }
        }

        void put(int[] tokens, Sequence sequence) {
            entries.addLast(new Entry(tokens, sequence));
            recount();
            while (!entries.isEmpty() && (entries.size() > maxEntries || bytes > maxBytes)) {
                entries.removeFirst().sequence.close();
                recount();
            }
        }

        void clear() {
            entries.forEach(e -> e.sequence.close());
            entries.clear();
            recount();
        }

        private void recount() {
            size = entries.size();
            long b = 0;
            for (Entry e : entries) b += e.sequence.cacheBytes();
            bytes = b;
        }
    }
}
