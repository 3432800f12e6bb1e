package gptoss.runtime.cpu;

import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.ModelConfig;
import gptoss.model.tensor.FloatTensor;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.KvCache;
import gptoss.runtime.backend.TokenBatch;
import gptoss.runtime.cpu.kernel.Attention;
import gptoss.runtime.cpu.kernel.BatchKernels;
import gptoss.runtime.cpu.kernel.Gemm;
import gptoss.runtime.cpu.kernel.VectorLayout;
import gptoss.runtime.cpu.kernel.WeightMatrix;
import gptoss.runtime.ops.RmsNorm;
import gptoss.runtime.ops.Swiglu;
import gptoss.runtime.ops.YarnRope;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The forward pass on the CPU with fp32 activations, reading weights where they lie (memory-mapped BF16 and
 * MXFP4, never copied) through the Java Vector API kernels of {@code gptoss.runtime.cpu.kernel}.
 * <ul>
 *   <li>One row (decode): matrix-vector products that decode weights in registers, eight rows per pass;
 *       threads of the {@link WorkerPool} claim contiguous stretches of rows, so each streams its own memory.</li>
 *   <li>Two rows or more (prefill chunk, batched decode, the rows routed to one expert): the matrix product
 *       of {@link Gemm}: threads claim units of output rows and apply each weight, decoded once (BF16 widened in
 *       registers for a few rows, a decoded panel for many), to every row of the batch from a register-blocked
 *       micro-kernel, so a batch reads each weight once. Where decoding costs more than the FMAs it feeds (MXFP4
 *       below {@link Gemm#PANEL_MIN_TOKENS} rows, the experts of a batched decode step) the rows run one after
 *       the other through the matrix-vector kernels instead ({@link Gemm#pays}).</li>
 * </ul>
 * Both follow the one summation order of {@code gptoss.runtime.cpu.kernel}, so a row's result does not depend on
 * the path, the batch or the thread.
 * Biases are added as outputs are written; the expert's gate/up product applies the clamped SwiGLU to each
 * (gate, linear) row pair as it is computed, so the 2I-wide intermediate is never stored. The routing weights
 * and the residual add stay in the engine, which combines expert outputs in router order whatever the placement.
 * Steady-state decoding allocates nothing: all work arrays are kept and only grow. Not thread-safe: one engine
 * thread drives it.
 */
public final class CpuBackend implements Backend {
    /**
     * Weight bytes a thread claims at a time in a matrix-vector product: about 1/8 of a thread's share, so a
     * thread slowed by the shared machine leaves little for the other to wait for, within bounds that keep the
     * claims cheap and the streams long. (1/32 gave the MXFP4 experts claims of 5-10 passes of eight rows, each
     * starting cold, before the native kernel's next-pass prefetch covers it: 20b's experts ran 1.3-1.4x slower.)
     */
    private static final long MIN_CHUNK_BYTES = 64 << 10, MAX_CHUNK_BYTES = 1 << 20;
    /** Claims per thread a matrix-vector product is cut into ({@code -Dgptoss.decode.claims=N}, to compare). */
    private static final int CLAIMS_PER_THREAD = Math.max(1, Integer.getInteger("gptoss.decode.claims", 8));

    /**
     * Whether row-by-row products (one token: every decode step's products) claim rows guided
     * ({@link WorkerPool#runGuided}: claims shrink as the rows run out, so no thread waits long for another's last
     * claim) rather than in claims of one size ({@code -Dgptoss.decode.guided=false}, to compare).
     */
    private static final boolean GUIDED = Boolean.parseBoolean(System.getProperty("gptoss.decode.guided", "true"));

    /** Claims per thread a matrix-vector product is cut into (8, or {@code -Dgptoss.decode.claims}). */
    public static int claimsPerThread() {
        return CLAIMS_PER_THREAD;
    }

    /**
     * Rows a thread claims at a time in a matrix-vector product of {@code bytes} whose rows take {@code rowBytes}
     * each: 1/{@code claims} of a thread's share, within 64 KiB to 1 MiB, whole passes of rows (the benchmarks claim
     * rows with this too, to measure what the backend runs).
     */
    public static int claimRows(long bytes, long rowBytes, int threads, int claims) {
        long target = Math.clamp(bytes / ((long) threads * claims), MIN_CHUNK_BYTES, MAX_CHUNK_BYTES);
        int pass = WeightMatrix.PASS_ROWS;
        return (int) Math.max(pass, target / rowBytes / pass * pass);
    }

    private final ModelConfig c;
    private final WorkerPool pool;
    private final YarnRope rope;
    private final float eps;
    private final Layer[] layers;
    private final ModelWeights weights;
    private final WeightMatrix unembedding;
    private final Buffers buf = new Buffers();
    private final ThreadScratch[] scratch;
    private final MatrixJob job = new MatrixJob();
    private final AttentionJob attentionJob = new AttentionJob();
    private final KernelClock clock;
    private boolean ownsPool;

    /** Weights of one layer wrapped in their kernels. */
    private record Layer(LayerWeights w, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
                         WeightMatrix router, WeightMatrix[] mlp1, WeightMatrix[] mlp2, float[] sinks) {
    }

    public CpuBackend(ModelConfig config, ModelWeights weights, WorkerPool pool) {
        this(config, weights, pool, false);
    }

    public CpuBackend(ModelConfig config, ModelWeights weights, WorkerPool pool, boolean profileKernels) {
        this.c = config;
        this.weights = weights;
        this.pool = pool;
        this.rope = new YarnRope(config);
        this.eps = (float) config.rmsNormEps();
        this.clock = new KernelClock(profileKernels, pool);
        int H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), E = c.numExperts(), I = c.intermediateSize();
        this.layers = new Layer[c.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            LayerWeights lw = weights.layers().get(l);
            WeightMatrix[] mlp1 = new WeightMatrix[E], mlp2 = new WeightMatrix[E];
            for (int e = 0; e < E; e++) {
                mlp1[e] = WeightMatrix.of(lw.mlp1(), (long) e * 2 * I * H, 2 * I, H);
                mlp2[e] = WeightMatrix.of(lw.mlp2(), (long) e * H * I, H, I);
            }
            float[] sinks = new float[c.numHeads()];
            for (int h = 0; h < sinks.length; h++) sinks[h] = lw.sinks().getFloat(h);
            layers[l] = new Layer(lw, WeightMatrix.of(lw.wq(), Q, H), WeightMatrix.of(lw.wk(), KV, H), WeightMatrix.of(lw.wv(), KV, H),
                    WeightMatrix.of(lw.wo(), H, Q), WeightMatrix.of(lw.router(), E, H), mlp1, mlp2, sinks);
        }
        this.unembedding = WeightMatrix.of(weights.unembedding(), c.vocabSize(), H);
        this.scratch = new ThreadScratch[pool.threads()];
        for (int t = 0; t < scratch.length; t++) scratch[t] = new ThreadScratch();
    }

    /** This backend, made responsible for shutting its pool down on {@link #close}. */
    CpuBackend closingPool() {
        ownsPool = true;
        return this;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public void close() {
        if (ownsPool) pool.close();
    }

    @Override
    public KvCache newKvCache(int maxContext) {
        return new CpuKvCache(c, maxContext);
    }

    @Override
    public Map<String, KernelTiming> drainKernelTimings() {
        return clock.drain();
    }

    // -------------------------------------------------------------------------------------------- attention

    @Override
    public void attention(int layer, TokenBatch batch, float[] x) {
        Layer lw = layers[layer];
        int T = batch.size(), H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), D = c.headDim();
        long start = clock.start();
        float[] h = buf.normed(T * H);
        for (int t = 0; t < T; t++) RmsNorm.apply(x, t * H, lw.w().attnNorm(), eps, h, t * H, H);
        float[] q = buf.q(T * Q), k = buf.k(T * KV), v = buf.v(T * KV);
        float[] inQ = input(lw.wq(), 0, h, 0, T, H);
        float[] inK = sameOrder(lw.wk(), lw.wq(), T) ? inQ : input(lw.wk(), 1, h, 0, T, H);
        float[] inV = sameOrder(lw.wv(), lw.wq(), T) ? inQ : sameOrder(lw.wv(), lw.wk(), T) ? inK : input(lw.wv(), 2, h, 0, T, H);
        job.begin(T);
        job.add(lw.wq(), inQ, lw.w().bq(), 0, q, 0, Q, false);
        job.add(lw.wk(), inK, lw.w().bk(), 0, k, 0, KV, false);
        job.add(lw.wv(), inV, lw.w().bv(), 0, v, 0, KV, false);
        runJob();
        start = clock.stop(Kernel.QKV, start);

        float[] cos = buf.cos(D / 2), sin = buf.sin(D / 2);
        float[] o = buf.attnOut(T * Q);
        for (int t = 0; t < T; t++) {
            rope.cosSin(batch.positions()[t], cos, sin);
            rope.rotate(q, t * Q, c.numHeads(), cos, sin);
            rope.rotate(k, t * KV, c.numKvHeads(), cos, sin);
        }
        attend(layer, batch, q, k, v, o);
        start = clock.stop(Kernel.ATTENTION, start);

        float[] a = buf.projected(T * H);
        job.begin(T);
        job.add(lw.wo(), input(lw.wo(), 0, o, 0, T, Q), lw.w().bo(), 0, a, 0, H, false);
        runJob();
        for (int i = 0; i < T * H; i++) x[i] += a[i];
        clock.stop(Kernel.OUT_PROJECTION, start);
    }

    /**
     * Stores the batch rows' keys and values ({@code k}, {@code v}: [T][KV], after RoPE) in their caches and writes
     * the attention of their queries ({@code q}: [T][Q]) to {@code o} ([T][Q]). Rows go into the cache, then are
     * attended, as many at a time as the layer's cache can take ahead.
     */
    void attend(int layer, TokenBatch batch, float[] q, float[] k, float[] v, float[] o) {
        int T = batch.size(), KV = c.kvDim();
        for (int first = 0, step = Math.min(T, CpuKvCache.rowsAhead(c, layer)); first < T; first += step) {
            int rows = Math.min(step, T - first);
            for (int t = first; t < first + rows; t++) {
                ((CpuKvCache) batch.caches()[t]).write(layer, batch.positions()[t], k, t * KV, v, t * KV);
            }
            attentionJob.set(layer, layers[layer], batch, first, rows, q, o);
            pool.run(attentionJob.units(), 1, attentionJob);
        }
    }

    /**
     * Attention of batch rows already in their caches. Rows form runs (consecutive rows of one sequence at
     * consecutive positions); a work unit is one KV head (the query heads of its group) for a tile of up to
     * {@link #QUERY_TILE} rows of a run, so each key tile read serves them all.
     */
    private final class AttentionJob implements WorkerPool.Task {
        /** Rows per unit: enough to reuse each key tile 128 times (with 8 heads per group), few enough to share out. */
        static final int QUERY_TILE = 16;
        private int layer, runs;
        private Layer weights;
        private TokenBatch batch;
        private float[] q, out;
        private int[] runFirst = new int[1], runRows = new int[1], runUnits = new int[2]; // runUnits: first unit of each run

        void set(int layer, Layer weights, TokenBatch batch, int first, int rows, float[] q, float[] out) {
            this.layer = layer;
            this.weights = weights;
            this.batch = batch;
            this.q = q;
            this.out = out;
            runs = 0;
            int[] positions = batch.positions();
            for (int t = first; t < first + rows; t++) {
                boolean continues = t > first && batch.caches()[t] == batch.caches()[t - 1] && positions[t] == positions[t - 1] + 1;
                if (continues) {
                    runRows[runs - 1]++;
                } else {
                    if (runs == runFirst.length) {
                        runFirst = java.util.Arrays.copyOf(runFirst, 2 * runs);
                        runRows = java.util.Arrays.copyOf(runRows, 2 * runs);
                        runUnits = java.util.Arrays.copyOf(runUnits, 2 * runs + 1);
                    }
                    runFirst[runs] = t;
                    runRows[runs++] = 1;
                }
            }
            for (int r = 0; r < runs; r++) runUnits[r + 1] = runUnits[r] + c.numKvHeads() * ((runRows[r] + QUERY_TILE - 1) / QUERY_TILE);
        }

        int units() {
            return runUnits[runs];
        }

        @Override
        public void run(int thread, int from, int to) {
            int D = c.headDim(), group = c.groupSize(), Q = c.qDim();
            int window = c.isSliding(layer) ? c.slidingWindow() : Attention.FULL;
            float scale = (float) (1.0 / Math.sqrt(D));
            float[] scratchFloats = scratch[thread].scores(Attention.scratchSize(QUERY_TILE, group, D));
            int run = 0;
            for (int unit = from; unit < to; unit++) {
                while (unit >= runUnits[run + 1]) run++;
                int tiles = (runRows[run] + QUERY_TILE - 1) / QUERY_TILE, local = unit - runUnits[run];
                int kvHead = local / tiles, tile = local % tiles; // a KV head's tiles are consecutive units
                int t = runFirst[run] + tile * QUERY_TILE, rows = Math.min(QUERY_TILE, runRows[run] - tile * QUERY_TILE);
                CpuKvCache cache = (CpuKvCache) batch.caches()[t];
                int firstHead = kvHead * group, headBlock = cache.capacity(layer) * D;
                Attention.attend(q, t * Q + firstHead * D, Q, rows, batch.positions()[t], group, D,
                        cache.keys(layer), kvHead * headBlock, cache.ring(layer), cache.values(layer), kvHead * headBlock, D, window,
                        weights.sinks(), firstHead, scale, scratchFloats, out, t * Q + firstHead * D, Q);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------- MoE

    @Override
    public void router(int layer, int rows, float[] x, float[] normed, float[] routerLogits) {
        Layer lw = layers[layer];
        int H = c.hiddenSize();
        long start = clock.start();
        for (int t = 0; t < rows; t++) RmsNorm.apply(x, t * H, lw.w().mlpNorm(), eps, normed, t * H, H);
        job.begin(rows);
        job.add(lw.router(), input(lw.router(), 0, normed, 0, rows, H), lw.w().routerBias(), 0, routerLogits, 0, c.numExperts(), false);
        runJob();
        clock.stop(Kernel.ROUTER, start);
    }

    @Override
    public void expert(int layer, int expert, int[] rows, int count, float[] normed, float[] out) {
        Layer lw = layers[layer];
        int H = c.hiddenSize(), I = c.intermediateSize();
        WeightMatrix mlp1 = lw.mlp1()[expert], mlp2 = lw.mlp2()[expert];
        long start = clock.start();
        float[] in;
        if (count == 1) {
            in = input(mlp1, 0, normed, rows[0] * H, 1, H);
        } else {
            float[] gathered = buf.expertIn(count * H);
            for (int i = 0; i < count; i++) System.arraycopy(normed, rows[i] * H, gathered, i * H, H);
            in = input(mlp1, 0, gathered, 0, count, H);
        }
        float[] y = buf.expertAct(count * I);
        job.begin(count);
        job.add(mlp1, in, lw.w().mlp1Bias(), (long) expert * 2 * I, y, 0, I, true);
        runJob();
        start = clock.stop(Kernel.EXPERT_GATE_UP, start);
        job.begin(count);
        job.add(mlp2, input(mlp2, 1, y, 0, count, I), lw.w().mlp2Bias(), (long) expert * H, out, 0, H, false);
        runJob();
        clock.stop(Kernel.EXPERT_DOWN, start);
    }

    /**
     * All selected experts of a decode step's layer (every expert with at most {@link BatchKernels#MAX_TOKENS}
     * rows) in two dispatches: the gate/up products (and SwiGLU) of every expert as the work units of one job,
     * then the down products of every expert as another, instead of two per expert. The threads claim units of rows
     * of any expert in order, so no thread waits at the end of each of the ≈ 20 experts of an 8-sequence step's
     * layer. Each expert's rows run through the same kernels as in {@link #expert} (same bits). Larger groups
     * (prefill chunks) go through {@link #expert}, one by one.
     */
    @Override
    public boolean experts(int layer, int n, int[] experts, int[] rowStart, int[] rows, float[] normed, float[] out) {
        for (int j = 0; j < n; j++) if (rowStart[j + 1] - rowStart[j] > BatchKernels.MAX_TOKENS) return false;
        Layer lw = layers[layer];
        int H = c.hiddenSize(), I = c.intermediateSize();
        long start = clock.start();
        // gate/up: each expert's rows arranged as its kernels read them, one after the other in one buffer
        int at = 0;
        for (int j = 0; j < n; j++) at += align(inputStride(lw.mlp1()[experts[j]], rowStart[j + 1] - rowStart[j]) * (rowStart[j + 1] - rowStart[j]));
        float[] in = buf.expertIn(at);
        float[] y = buf.expertAct(rowStart[n] * I);
        job.beginExperts();
        at = 0;
        for (int j = 0; j < n; j++) {
            int e = experts[j], count = rowStart[j + 1] - rowStart[j];
            WeightMatrix m = lw.mlp1()[e];
            int stride = inputStride(m, count);
            VectorLayout layout = count == 1 ? m.dotLayout() : m.decodeLayout();
            for (int i = 0; i < count; i++) arrangeRow(layout, normed, rows[rowStart[j] + i] * H, H, in, at + i * stride, stride);
            job.add(m, in, at, lw.w().mlp1Bias(), (long) e * 2 * I, y, rowStart[j] * I, I, true, count);
            at += align(stride * count);
        }
        runJob();
        start = clock.stop(Kernel.EXPERT_GATE_UP, start);
        // down: each expert's SwiGLU rows, arranged for its down matrix
        at = 0;
        for (int j = 0; j < n; j++) at += align(inputStride(lw.mlp2()[experts[j]], rowStart[j + 1] - rowStart[j]) * (rowStart[j + 1] - rowStart[j]));
        float[] mid = buf.expertMid(at);
        job.beginExperts();
        at = 0;
        for (int j = 0; j < n; j++) {
            int e = experts[j], count = rowStart[j + 1] - rowStart[j];
            WeightMatrix m = lw.mlp2()[e];
            int stride = inputStride(m, count);
            VectorLayout layout = count == 1 ? m.dotLayout() : m.decodeLayout();
            for (int i = 0; i < count; i++) arrangeRow(layout, y, (rowStart[j] + i) * I, I, mid, at + i * stride, stride);
            job.add(m, mid, at, lw.w().mlp2Bias(), (long) e * H, out, rowStart[j] * H, H, false, count);
            at += align(stride * count);
        }
        runJob();
        clock.stop(Kernel.EXPERT_DOWN, start);
        return true;
    }

    /** n rounded up to whole 64-byte lines of floats, so every expert's rows start on a line in the native copy. */
    private static int align(int n) {
        return (n + 15) & ~15;
    }

    /** One row of width cols from src[srcOffset..] arranged in layout at dst[dstOffset..], zeros up to stride. */
    private static void arrangeRow(VectorLayout layout, float[] src, int srcOffset, int cols, float[] dst, int dstOffset, int stride) {
        layout.arrange(src, srcOffset, cols, dst, dstOffset);
        int n = layout.length(cols);
        if (stride > n) java.util.Arrays.fill(dst, dstOffset + n, dstOffset + stride, 0f);
    }

    // ------------------------------------------------------------------------------------------------ head

    @Override
    public void head(int rows, float[] x, float[] logits) {
        int H = c.hiddenSize();
        long start = clock.start();
        float[] h = buf.normed(rows * H);
        for (int t = 0; t < rows; t++) RmsNorm.apply(x, t * H, weights.finalNorm(), eps, h, t * H, H);
        job.begin(rows);
        job.add(unembedding, input(unembedding, 0, h, 0, rows, H), null, 0, logits, 0, c.vocabSize(), false);
        runJob();
        clock.stop(Kernel.HEAD, start);
    }

    // ------------------------------------------------------------------------------------- matrix products

    /**
     * {@code rows} activation rows of width {@code cols} from {@code src[srcOffset..]}, arranged in the order
     * {@code m}'s kernels read them (one row: {@link WeightMatrix#dotLayout}, more: {@link WeightMatrix#decodeLayout}),
     * in work buffer {@code slot} of that order. Matrices with equal orders share the arrangement.
     */
    private float[] input(WeightMatrix m, int slot, float[] src, int srcOffset, int rows, int cols) {
        VectorLayout layout = rows == 1 ? m.dotLayout() : m.decodeLayout();
        int stride = inputStride(m, rows);
        if (layout == VectorLayout.NATURAL && srcOffset == 0 && stride == cols) return src;
        return buf.arranged(layout, slot, src, srcOffset, rows, cols, stride);
    }

    /** Floats between the arranged rows {@link #input} gives for m: {@link Gemm#stride} for several rows. */
    private static int inputStride(WeightMatrix m, int rows) {
        return rows == 1 ? m.dotLayout().length(m.cols()) : Gemm.stride(m);
    }

    private static boolean sameOrder(WeightMatrix a, WeightMatrix b, int rows) {
        boolean layout = rows == 1 ? a.dotLayout() == b.dotLayout() : a.decodeLayout() == b.decodeLayout();
        return layout && a.cols() == b.cols() && inputStride(a, rows) == inputStride(b, rows);
    }

    private void runJob() {
        job.prepare();
        runClaims(pool, job.units(), job.grain(pool.threads()), job.quantum(), job);
    }

    /**
     * Runs {@code task} over {@code units} as the backend dispatches a product: guided claims of whole {@code quantum}s,
     * at most {@code grain} units ({@link WorkerPool#runGuided}), where the product runs row by row ({@code quantum} > 0)
     * and {@code -Dgptoss.decode.guided} is not false; otherwise claims of {@code grain} (the benchmarks dispatch with
     * this too, to measure what the backend runs).
     */
    public static void runClaims(WorkerPool pool, int units, int grain, int quantum, WorkerPool.Task task) {
        if (GUIDED && quantum > 0 && grain >= quantum) pool.runGuided(units, quantum, grain / quantum * quantum, task);
        else pool.run(units, grain, task);
    }

    /**
     * Matrices applied to token rows in one dispatch: q, k and v share one (the same batch), a decode step's
     * experts another (each with its own rows, {@link #experts}). Work units are output rows (or gate/linear row
     * pairs) where the rows run one token after the other through the single-row kernels (one token, or a format
     * for which {@link Gemm#pays} says no), {@link Gemm#unitRows} rows otherwise; in a job of many segments a
     * single-row segment's unit is that many rows too, so units are of a size whatever their kernel (and the
     * threads move from expert to expert without waiting). Token rows
     * for the native small-batch kernels are copied once per dispatch to cache-line-aligned native memory.
     */
    private final class MatrixJob implements WorkerPool.Task {
        private int capacity = 3;
        private WeightMatrix[] matrix = new WeightMatrix[capacity];
        private float[][] in = new float[capacity][];
        private int[] inOffset = new int[capacity];
        private FloatTensor[] bias = new FloatTensor[capacity];
        private long[] biasOffset = new long[capacity];
        private float[][] out = new float[capacity][];
        private int[] outOffset = new int[capacity], outStride = new int[capacity];
        private boolean[] swiglu = new boolean[capacity];
        private boolean[] rowByRow = new boolean[capacity];  // one token after the other through the single-row kernels
        private boolean[] batch = new boolean[capacity];     // 2..15 tokens through the native small-batch kernels
        private int[] tokens = new int[capacity], unitRows = new int[capacity], span = new int[capacity];
        private MemorySegment[] nativeIn = new MemorySegment[capacity];
        private int[] firstUnit = new int[capacity + 1];
        private final BatchKernels.AlignedRows[] aligned = {new BatchKernels.AlignedRows(), new BatchKernels.AlignedRows(), new BatchKernels.AlignedRows()};
        private int segments, defaultTokens;
        private boolean experts;

        /** A new job whose segments have {@code tokens} token rows unless {@link #add} says otherwise. */
        void begin(int tokens) {
            this.defaultTokens = tokens;
            this.experts = false;
            segments = 0;
        }

        /** A new job of many small products, each with its own rows (a step's experts): units of a size, claimed in order. */
        void beginExperts() {
            begin(1);
            this.experts = true;
        }

        void add(WeightMatrix m, float[] input, FloatTensor b, long bOffset, float[] output, int oOffset, int oStride, boolean glu) {
            add(m, input, 0, b, bOffset, output, oOffset, oStride, glu, defaultTokens);
        }

        /**
         * {@code out[t·outStride + outOffset + o] = m[o] · in[t] + bias[biasOffset + o]} for the {@code n} token rows
         * arranged from {@code input[inputOffset]} ({@link #inputStride} apart); with {@code swiglu}, row pairs
         * (2j, 2j+1) are (gate, linear) and {@code swiglu(gate, linear)} goes to column j.
         */
        void add(WeightMatrix m, float[] input, int inputOffset, FloatTensor b, long bOffset, float[] output, int oOffset, int oStride, boolean glu, int n) {
            if (segments == capacity) grow();
            int s = segments++;
            matrix[s] = m;
            in[s] = input;
            inOffset[s] = inputOffset;
            bias[s] = b;
            biasOffset[s] = bOffset;
            out[s] = output;
            outOffset[s] = oOffset;
            outStride[s] = oStride;
            swiglu[s] = glu;
            tokens[s] = n;
            batch[s] = BatchKernels.pays(m, n);
            unitRows[s] = batch[s] ? BatchKernels.unitRows(m, n) : Gemm.unitRows(n);
            rowByRow[s] = n == 1 || (!batch[s] && !Gemm.pays(m, n) && m.dotLayout() == m.decodeLayout());
            nativeIn[s] = null;
            // rows of a single-row unit: 1 (claims of whole passes, sized in bytes by grain) where the job is one
            // batch's products; Gemm.unitRows in an experts job, a SwiGLU's row pair counting as one
            int rows = glu ? m.rows() / 2 : m.rows();
            span[s] = !experts ? 1 : glu ? unitRows[s] / 2 : unitRows[s];
            int units = rowByRow[s] ? (rows + span[s] - 1) / span[s] : (m.rows() + unitRows[s] - 1) / unitRows[s];
            firstUnit[s + 1] = firstUnit[s] + units;
        }

        private void grow() {
            capacity *= 2;
            matrix = java.util.Arrays.copyOf(matrix, capacity);
            in = java.util.Arrays.copyOf(in, capacity);
            inOffset = java.util.Arrays.copyOf(inOffset, capacity);
            bias = java.util.Arrays.copyOf(bias, capacity);
            biasOffset = java.util.Arrays.copyOf(biasOffset, capacity);
            out = java.util.Arrays.copyOf(out, capacity);
            outOffset = java.util.Arrays.copyOf(outOffset, capacity);
            outStride = java.util.Arrays.copyOf(outStride, capacity);
            swiglu = java.util.Arrays.copyOf(swiglu, capacity);
            rowByRow = java.util.Arrays.copyOf(rowByRow, capacity);
            batch = java.util.Arrays.copyOf(batch, capacity);
            tokens = java.util.Arrays.copyOf(tokens, capacity);
            unitRows = java.util.Arrays.copyOf(unitRows, capacity);
            span = java.util.Arrays.copyOf(span, capacity);
            nativeIn = java.util.Arrays.copyOf(nativeIn, capacity);
            firstUnit = java.util.Arrays.copyOf(firstUnit, capacity + 1);
        }

        /** Before a dispatch: the token rows of the native small-batch segments to aligned native memory, one copy per input array. */
        void prepare() {
            int copies = 0;
            for (int s = 0; s < segments; s++) {
                if (!batch[s]) continue;
                int same = -1;
                for (int p = 0; p < s; p++) if (batch[p] && in[p] == in[s]) same = p;
                if (same >= 0) {
                    nativeIn[s] = nativeIn[same];
                    continue;
                }
                int extent = 0;
                for (int p = s; p < segments; p++) {
                    if (batch[p] && in[p] == in[s]) {
                        int stride = Gemm.stride(matrix[p]);
                        extent = Math.max(extent, inOffset[p] + (tokens[p] - 1) * stride + matrix[p].cols());
                    }
                }
                nativeIn[s] = copies < aligned.length ? aligned[copies++].copy(in[s], 0, extent) : null;
            }
        }

        int units() {
            return firstUnit[segments];
        }

        int grain(int threads) {
            int units = units();
            if (experts) return Math.max(1, units / (threads * 16));
            boolean rows = true;
            for (int s = 0; s < segments; s++) rows &= rowByRow[s];
            if (!rows) return Math.max(1, units / (threads * 8));
            long bytes = 0;
            for (int s = 0; s < segments; s++) bytes += matrix[s].bytes();
            return claimRows(bytes, Math.max(1, bytes / units), threads, CLAIMS_PER_THREAD);
        }

        /**
         * The smallest claim of a guided dispatch, in units, where every segment runs row by row: one unit (a span of
         * rows) in an experts job, a pass of rows otherwise; 0 where some segment runs through the batch kernels.
         */
        int quantum() {
            for (int s = 0; s < segments; s++) if (!rowByRow[s]) return 0;
            return experts ? 1 : WeightMatrix.PASS_ROWS;
        }

        @Override
        public void run(int thread, int from, int to) {
            for (int s = 0; s < segments && from < to; s++) {
                int lo = Math.max(from, firstUnit[s]), hi = Math.min(to, firstUnit[s + 1]);
                if (lo >= hi) continue;
                int a = lo - firstUnit[s], b = hi - firstUnit[s];
                if (rowByRow[s]) {
                    int stride = inputStride(matrix[s], tokens[s]);
                    int rows = swiglu[s] ? matrix[s].rows() / 2 : matrix[s].rows();
                    int r0 = a * span[s], r1 = Math.min(rows, b * span[s]);
                    for (int t = 0; t < tokens[s]; t++) {
                        if (swiglu[s]) vectorPairs(s, r0, r1, inOffset[s] + t * stride, t * outStride[s], scratch[thread]);
                        else vectorRows(s, r0, r1, inOffset[s] + t * stride, t * outStride[s], scratch[thread]);
                    }
                } else {
                    ThreadScratch ts = scratch[thread];
                    ts.epilogue.segment = s;
                    WeightMatrix m = matrix[s];
                    int n = tokens[s], units = unitRows[s], stride = Gemm.stride(m);
                    for (int unit = a; unit < b; unit++) {
                        int row = unit * units, count = Math.min(units, m.rows() - row);
                        if (batch[s] && nativeIn[s] != null) BatchKernels.rows(m, row, count, nativeIn[s], inOffset[s], stride, n, ts.gemm, ts.epilogue);
                        else if (batch[s]) BatchKernels.rows(m, row, count, in[s], inOffset[s], stride, n, ts.gemm, ts.epilogue);
                        else Gemm.rows(m, row, count, in[s], inOffset[s], stride, n, ts.gemm, ts.epilogue);
                    }
                }
            }
        }

        private void vectorRows(int s, int from, int to, int xOffset, int outAt, ThreadScratch ts) {
            float[] o = out[s];
            int base = outOffset[s] + outAt;
            matrix[s].dotRows(from, to, in[s], xOffset, o, base, ts.pass);
            if (bias[s] != null) for (int r = from; r < to; r++) o[base + r] += bias(s, r);
        }

        /** Rows 2·from .. 2·to in one {@link WeightMatrix#dotRows} call, then SwiGLU of each (gate, linear) pair. */
        private void vectorPairs(int s, int from, int to, int xOffset, int outAt, ThreadScratch ts) {
            WeightMatrix m = matrix[s];
            float[] o = out[s], rowsOut = ts.pairRows(2 * (to - from));
            int base = outOffset[s] + outAt;
            float alpha = (float) c.swigluAlpha(), limit = (float) c.swigluLimit();
            m.dotRows(2 * from, 2 * to, in[s], xOffset, rowsOut, -2 * from, ts.pass);
            for (int j = from; j < to; j++) {
                int r = 2 * j, i = 2 * (j - from);
                o[base + j] = Swiglu.apply(rowsOut[i] + bias(s, r), rowsOut[i + 1] + bias(s, r + 1), alpha, limit);
            }
        }

        /**
         * Writes a finished {@link Gemm} block (acc[r·cStride + t] = row {@code row + r}, token t) plus bias; with
         * SwiGLU, each (gate, linear) row pair as one value.
         */
        void emitBlock(int s, int row, int count, float[] acc, int cOffset, int cStride) {
            float[] o = out[s];
            int stride = outStride[s], offset = outOffset[s], n = tokens[s];
            if (swiglu[s]) {
                float alpha = (float) c.swigluAlpha(), limit = (float) c.swigluLimit();
                for (int r = 0; r + 1 < count; r += 2) {
                    float gateBias = bias(s, row + r), linearBias = bias(s, row + r + 1);
                    int g = cOffset + r * cStride, l = g + cStride, at = offset + (row + r) / 2;
                    for (int t = 0; t < n; t++) {
                        o[at + t * stride] = Swiglu.apply(acc[g + t] + gateBias, acc[l + t] + linearBias, alpha, limit);
                    }
                }
            } else {
                for (int r = 0; r < count; r++) {
                    float b = bias(s, row + r);
                    int from = cOffset + r * cStride, at = offset + row + r;
                    for (int t = 0; t < n; t++) o[at + t * stride] = acc[from + t] + b;
                }
            }
        }

        /** {@link Gemm.Output} of rows [row, row + count) of segment s: what {@link #emitBlock} writes, for the native epilogue. */
        Gemm.Output nativeOutput(int s, int row, int count, Gemm.Output o) {
            float[] b = o.set(out[s], outOffset[s] + (swiglu[s] ? row / 2 : row), outStride[s], swiglu[s],
                    (float) c.swigluAlpha(), (float) c.swigluLimit(), count);
            for (int r = 0; r < count; r++) b[r] = bias(s, row + r);
            return o;
        }

        private float bias(int s, int row) {
            FloatTensor b = bias[s];
            return b == null ? 0f : b.getFloat(biasOffset[s] + row);
        }
    }

    /** Work memory private to one pool thread. */
    private final class ThreadScratch {
        final float[] pass = new float[WeightMatrix.PASS_ROWS];
        final Gemm.Scratch gemm = new Gemm.Scratch();
        final GemmSink epilogue = new GemmSink();
        private float[] scores = new float[0];
        private float[] pairRows = new float[0];

        /** Finished {@link Gemm} blocks go to the job's output segment, with its bias. */
        final class GemmSink implements Gemm.Epilogue {
            int segment;

            private final Gemm.Output output = new Gemm.Output();

            @Override
            public void write(int row, int count, int tokens, float[] c, int cOffset, int cStride) {
                job.emitBlock(segment, row, count, c, cOffset, cStride);
            }

            @Override
            public Gemm.Output output(int row, int count) {
                return job.nativeOutput(segment, row, count, output);
            }
        }

        /** At least n floats for the gate and linear rows of a claim (grow-only). */
        float[] pairRows(int n) {
            if (pairRows.length < n) pairRows = new float[n];
            return pairRows;
        }

        /** At least n floats; grows to powers of two, so a growing context reallocates only now and then. */
        float[] scores(int n) {
            if (scores.length < n) scores = new float[Integer.highestOneBit(n - 1) << 1];
            return scores;
        }
    }

    /** Grow-only work arrays of the engine thread, so steady-state decoding allocates nothing. */
    private static final class Buffers {
        private float[] normed = new float[0], q = new float[0], k = new float[0], v = new float[0];
        private float[] cos = new float[0], sin = new float[0], attnOut = new float[0], projected = new float[0];
        private float[] expertIn = new float[0], expertAct = new float[0], expertMid = new float[0];
        private final float[][][] arranged = new float[VectorLayout.values().length][3][0];

        private static float[] atLeast(float[] a, int n) {
            return a.length >= n ? a : new float[Math.max(n, a.length * 3 / 2)];
        }

        float[] normed(int n) { return normed = atLeast(normed, n); }
        float[] q(int n) { return q = atLeast(q, n); }
        float[] k(int n) { return k = atLeast(k, n); }
        float[] v(int n) { return v = atLeast(v, n); }
        float[] cos(int n) { return cos = atLeast(cos, n); }
        float[] sin(int n) { return sin = atLeast(sin, n); }
        float[] attnOut(int n) { return attnOut = atLeast(attnOut, n); }
        float[] projected(int n) { return projected = atLeast(projected, n); }
        float[] expertIn(int n) { return expertIn = atLeast(expertIn, n); }
        float[] expertAct(int n) { return expertAct = atLeast(expertAct, n); }
        float[] expertMid(int n) { return expertMid = atLeast(expertMid, n); }

        /** Rows of width cols from src, each arranged in {@code layout}, {@code stride} apart, zeros after the arranged length. */
        float[] arranged(VectorLayout layout, int slot, float[] src, int srcOffset, int rows, int cols, int stride) {
            float[] a = arranged[layout.ordinal()][slot] = atLeast(arranged[layout.ordinal()][slot], rows * stride);
            int n = layout.length(cols);
            for (int r = 0; r < rows; r++) {
                layout.arrange(src, srcOffset + r * cols, cols, a, r * stride);
                if (stride > n) java.util.Arrays.fill(a, r * stride + n, (r + 1) * stride, 0f);
            }
            return a;
        }
    }

    /** Kinds of work timed with --profile-kernels. */
    private enum Kernel {
        QKV("attention q/k/v"), ATTENTION("attention scores+mix"), OUT_PROJECTION("attention out"), ROUTER("router"),
        EXPERT_GATE_UP("expert gate/up+swiglu"), EXPERT_DOWN("expert down"), HEAD("unembedding");

        final String label;

        Kernel(String label) {
            this.label = label;
        }
    }

    /**
     * Per-kernel call counts and times, when profiling (otherwise every call is a no-op); with them, what the pool's
     * dispatches of each kind lost at their start (worker start lag) and end (threads idle while another finishes its
     * last claim), from {@link WorkerPool#drainTiming}.
     */
    private static final class KernelClock {
        private final boolean enabled;
        private final WorkerPool pool;
        private final long[] calls = new long[Kernel.values().length], nanos = new long[Kernel.values().length];
        private final long[] dispatches = new long[Kernel.values().length], startLag = new long[Kernel.values().length];
        private final long[] endIdle = new long[Kernel.values().length];

        KernelClock(boolean enabled, WorkerPool pool) {
            this.enabled = enabled;
            this.pool = pool;
            if (enabled) pool.setTiming(true);
        }

        long start() {
            if (!enabled) return 0;
            pool.drainTiming(); // dispatches before this kernel belong to none
            return System.nanoTime();
        }

        /** Records the time since {@code start} and returns now (the start of the next kernel). */
        long stop(Kernel kernel, long start) {
            if (!enabled) return 0;
            long now = System.nanoTime();
            int k = kernel.ordinal();
            calls[k]++;
            nanos[k] += now - start;
            long[] t = pool.drainTiming();
            dispatches[k] += t[0];
            startLag[k] += t[1];
            endIdle[k] += t[2];
            return now;
        }

        Map<String, KernelTiming> drain() {
            Map<String, KernelTiming> out = new LinkedHashMap<>();
            for (Kernel k : Kernel.values()) {
                int i = k.ordinal();
                if (calls[i] > 0) out.put(k.label, new KernelTiming(calls[i], nanos[i]));
                if (dispatches[i] > 0) {
                    out.put(k.label + ": worker start lag", new KernelTiming(dispatches[i], startLag[i]));
                    out.put(k.label + ": end idle (threads)", new KernelTiming(dispatches[i], endIdle[i]));
                }
                calls[i] = nanos[i] = dispatches[i] = startLag[i] = endIdle[i] = 0;
            }
            return out;
        }
    }
}
