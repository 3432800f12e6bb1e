package gptoss.tornado;

import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.BackendRequest;
import gptoss.runtime.backend.DeviceTraffic;
import gptoss.runtime.backend.KvCache;
import gptoss.runtime.backend.Shard;
import gptoss.runtime.backend.TokenBatch;
import gptoss.runtime.backend.WholeStep;
import gptoss.tornado.kernels.AttentionKernels;
import gptoss.tornado.kernels.Params;
import gptoss.tornado.kernels.RoutingKernels;
import uk.ac.manchester.tornado.api.DataRange;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.ProfilerMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.exceptions.TornadoOutOfMemoryException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A TornadoVM device running the parts of the model in its {@link Shard}. Weights are uploaded at construction
 * and stay resident, as do the KV caches (paged pools, one per layer). Two shapes:
 * <ul>
 *   <li>the whole model (unless {@code -Dgptoss.tornado.resident=false}): one task graph runs a whole forward
 *       step ({@link StepStage}, offered to the engine as {@link WholeStep}); per execution the token ids and page
 *       lists go in and only the wanted logits come out, one execution per {@code maxRows} rows;</li>
 *   <li>part of a model (a split placement): a task graph per part (attention and router of each layer, the
 *       experts held in each layer, the head); each call uploads the activation rows, runs one graph and reads
 *       back the rows it produced, and the engine orchestrates routing and combine on the host.</li>
 * </ul>
 * Batches larger than {@code maxRows} are processed in pieces. Not thread-safe: one engine thread drives it.
 */
public final class TornadoBackend implements Backend {
    private final ModelConfig c;
    private final String name;
    private final Buffers b;
    private final RopeTable rope;
    private final KvPagePool fullPool, slidingPool;
    private final int ringSlots;
    private final long fullPageBytes, slidingPageBytes;
    private final int matvecRows;
    private final AttentionStage[] attention; // [L], null where not held
    private final RouterStage[] routers;      // [L]
    private final ExpertStage[] experts;      // [L]
    private final HeadStage head;
    private final StepStage step;             // the whole-step graph, or null (then the part graphs above)
    private long executions, uploaded, downloaded; // since warm-up
    private final List<Stage> stages = new ArrayList<>();
    private final TornadoExecutionPlan plan;
    private final KernelProfiler profiler;    // null unless --profile-kernels
    private boolean closed;
    // host staging for the attention batch layout
    private final int[] rowMetaHost, pageTableHost, tilesHost;
    private final float[] cosHost, sinHost;
    // The router results the last attention call computed on its output rows (see AttentionStage).
    private int routedLayer = -1, routedRows;
    private float[] routedX = new float[0], routedNormed = new float[0], routedLogits = new float[0];

    TornadoBackend(BackendRequest request, TornadoDevice device, int deviceIndex, TornadoSettings settings) {
        this.c = request.config();
        this.name = "tornado:" + deviceIndex;
        ModelWeights w = request.weights();
        Shard shard = request.shard();
        int L = c.numLayers(), D = c.headDim(), KV = c.kvDim();
        if (D > AttentionKernels.MAX_HEAD_DIM) {
            throw new IllegalArgumentException("the tornado attention kernels support head_dim <= " + AttentionKernels.MAX_HEAD_DIM + ", got " + D);
        }
        int maxRows = settings.maxRows();
        matvecRows = settings.matvecRows();
        int kvTokens = settings.kvTokens();
        int sequences = settings.sequences();
        long start = System.nanoTime();

        int fullLayers = 0, slidingLayers = 0;
        for (int l = 0; l < L; l++) {
            if (!shard.hasAttention(l)) continue;
            if (c.isSliding(l)) slidingLayers++;
            else fullLayers++;
        }
        int page = AttentionKernels.PAGE;
        ringSlots = (int) Stage.roundUp(c.slidingWindow() + maxRows, page);
        fullPool = fullLayers == 0 ? null : new KvPagePool("full-attention", (kvTokens + page - 1) / page);
        slidingPool = slidingLayers == 0 ? null : new KvPagePool("sliding-window", sequences * (ringSlots / page));
        fullPageBytes = 2L * 4 * page * KV * fullLayers;
        slidingPageBytes = 2L * 4 * page * KV * slidingLayers;
        int fullTable = fullPool == null ? 0 : fullPool.pages();
        int pageTableSize = fullTable + (slidingPool == null ? 0 : slidingPool.pages());

        b = new Buffers(c, maxRows, pageTableSize);
        rope = new RopeTable(c);
        rowMetaHost = new int[maxRows * AttentionKernels.META];
        pageTableHost = new int[Math.max(1, pageTableSize)];
        tilesHost = new int[maxRows * 2];
        cosHost = new float[maxRows * D / 2];
        sinHost = new float[maxRows * D / 2];

        GridScheduler scheduler = new GridScheduler();
        DeviceArrays arrays = new DeviceArrays();
        attention = new AttentionStage[L];
        routers = new RouterStage[L];
        experts = new ExpertStage[L];
        step = settings.resident() && holdsEverything(shard) ? add(new StepStage(c, w, arrays, b, fullPool, slidingPool, ringSlots, matvecRows, scheduler)) : null;
        for (int l = 0; l < L && step == null; l++) {
            var lw = w.layers().get(l);
            if (shard.hasAttention(l)) {
                attention[l] = add(new AttentionStage(l, c, lw, arrays, b, c.isSliding(l) ? slidingPool : fullPool, ringSlots, scheduler));
                routers[l] = add(new RouterStage(l, c, lw, arrays, b, scheduler));
            }
            int held = shard.expertCount(l);
            if (held > 0) {
                int[] ids = new int[held];
                for (int e = 0, i = 0; e < c.numExperts(); e++) if (shard.hasExpert(l, e)) ids[i++] = e;
                experts[l] = add(new ExpertStage(l, c, lw, ids, arrays, b, scheduler));
            }
        }
        head = shard.hasHead() && step == null ? add(new HeadStage(c, w, arrays, b, scheduler)) : null;
        if (stages.isEmpty()) throw new IllegalArgumentException("the shard given to " + name + " holds nothing");

        ImmutableTaskGraph[] graphs = stages.stream().map(s -> s.graph.snapshot()).toArray(ImmutableTaskGraph[]::new);
        plan = new TornadoExecutionPlan(graphs);
        plan.withDevice(device).withGridScheduler(scheduler);
        profiler = request.profileKernels() ? new KernelProfiler(stages.size()) : null;
        if (profiler != null) plan.withProfiler(ProfilerMode.SILENT);
        try {
            warmUp();
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof TornadoOutOfMemoryException) {
                    throw new IllegalStateException(String.format(Locale.ROOT, "%s: out of device memory (%s); the model needs about "
                            + "%.2f GiB on the device; TornadoVM's limit is -Dtornado.device.memory=%s (raise it, e.g. "
                            + "GPTOSS_JAVA_OPTS=-Dtornado.device.memory=16GB, or give this device fewer layers)", name,
                            t.getMessage(), arrays.bytes() / (double) (1L << 30), System.getProperty("tornado.device.memory", "4GB")), e);
                }
            }
            throw e;
        }
        // Every weight is on the device now; the host copies TornadoVM made them from go back to the OS.
        long released = arrays.releaseHostCopies();
        System.err.printf(Locale.ROOT, "%s: %s, %s compiled, %.2f GiB of weights and buffers resident (+%.1f MiB activations per graph; "
                        + "%.2f GiB of host weight copies and checkpoint pages released) in %.1f s%n",
                name, device.getPhysicalDevice().getDeviceName(), step != null ? "one whole-step task graph"
                        : stages.size() + " task graphs (host-orchestrated parts)", arrays.bytes() / (double) (1L << 30),
                b.bytes() / (double) (1L << 20), released / (double) (1L << 30), (System.nanoTime() - start) / 1e9);
    }

    private boolean holdsEverything(Shard shard) {
        if (!shard.hasHead()) return false;
        for (int l = 0; l < c.numLayers(); l++) {
            if (!shard.hasAttention(l) || shard.expertCount(l) != c.numExperts()) return false;
        }
        return true;
    }

    private <S extends Stage> S add(S stage) {
        stage.index = stages.size();
        stages.add(stage);
        return stage;
    }

    /**
     * Runs every graph with no rows but grids sized for one, once for each way its kernels run: JIT-compiles all
     * kernels, lets drivers that specialise them on the launch shape (PoCL does) do so before the first real call,
     * and uploads all weights.
     */
    private void warmUp() {
        setRows(0, false);
        b.params.set(Params.PREFILL_TILES, 0);
        b.params.set(Params.DECODE_ROWS, 0);
        for (boolean tiled : new boolean[]{false, true}) {
            for (Stage s : stages) {
                switch (s) {
                    case AttentionStage a -> a.size(1, tiled, tiled, 1);
                    case RouterStage r -> r.size(1, tiled);
                    case ExpertStage e -> e.size(1, tiled);
                    case HeadStage h -> h.size(1, tiled);
                    case StepStage st -> st.size(0, tiled, false, 0, 0, tiled);
                    default -> throw new IllegalStateException();
                }
                long t0 = System.nanoTime();
                execute(s, List.of());
                if (Boolean.getBoolean("gptoss.tornado.verbose")) {
                    System.err.printf(Locale.ROOT, "%s: graph %s warmed up (%s) in %.1f s%n", name, s.name, tiled ? "prefill" : "decode",
                            (System.nanoTime() - t0) / 1e9);
                }
            }
        }
        if (profiler != null) profiler.drain(); // compilation and weight upload are not kernel time
        executions = uploaded = downloaded = 0;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public KvCache newKvCache(int maxContext) {
        return new TornadoKvCache(this, fullPool, slidingPool, ringSlots, c.slidingWindow(), maxContext, fullPageBytes, slidingPageBytes);
    }

    // -------------------------------------------------------------------------------------------- attention

    @Override
    public void attention(int layer, TokenBatch batch, float[] x) {
        partsOnly("attention");
        AttentionStage stage = attention[layer];
        if (stage == null) throw new IllegalArgumentException(name + " does not hold attention of layer " + layer);
        routedLayer = -1;
        for (int start = 0; start < batch.size(); start += b.maxRows) {
            attention(stage, batch, start, Math.min(b.maxRows, batch.size() - start), x);
        }
        if (batch.size() <= b.maxRows) {
            // One execution computed the router on the output rows too: keep it for the router call that follows.
            int H = c.hiddenSize(), E = c.numExperts(), rows = batch.size();
            if (routedX.length < rows * H) {
                routedX = new float[b.maxRows * H];
                routedNormed = new float[b.maxRows * H];
                routedLogits = new float[b.maxRows * E];
            }
            System.arraycopy(x, 0, routedX, 0, rows * H);
            MemorySegment.copy(b.normed.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, routedNormed, 0, rows * H);
            MemorySegment.copy(b.routerLogits.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, routedLogits, 0, rows * E);
            routedLayer = layer;
            routedRows = rows;
        }
    }

    private void attention(AttentionStage stage, TokenBatch batch, int start, int rows, float[] x) {
        int H = c.hiddenSize();
        TornadoKvCache[] caches = new TornadoKvCache[rows];
        int tileCount = prepareRows(batch, start, rows, caches);
        MemorySegment.copy(x, start * H, b.x.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, rows * H);

        boolean tiled = rows > matvecRows;
        boolean prefill = tiled && tileCount < rows;
        setRows(rows, tiled);
        b.params.set(Params.DECODE_ROWS, prefill ? 0 : rows);
        b.params.set(Params.PREFILL_TILES, prefill ? tileCount : 0);
        List<String> active = stage.size(rows, tiled, prefill, tileCount);
        execute(stage, active, b.x, rows * H, b.normed, rows * H, b.routerLogits, rows * c.numExperts());
        MemorySegment.copy(b.x.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, x, start * H, rows * H);
        for (int t = 0; t < rows; t++) caches[t].advance(batch.positions()[start + t] + 1);
    }

    /**
     * The attention inputs of rows {@code start .. start+rows} of {@code batch}: reserves cache pages, fills
     * {@code caches} and the row metadata, page lists, prefill tiles and RoPE rows; returns the tile count.
     */
    private int prepareRows(TokenBatch batch, int start, int rows, TornadoKvCache[] caches) {
        int half = c.headDim() / 2, meta = AttentionKernels.META;
        for (int t = 0; t < rows; t++) {
            if (!(batch.caches()[start + t] instanceof TornadoKvCache cache) || cache.owner != this) {
                throw new IllegalArgumentException("row " + (start + t) + " carries a KV cache that " + name + " did not create");
            }
            caches[t] = cache;
            cache.reserve(batch.positions()[start + t] + 1);
        }
        // Page lists of the distinct sequences: full-layer lists from 0, sliding-layer lists after the full pool.
        Map<TornadoKvCache, int[]> offsets = new IdentityHashMap<>();
        int fullAt = 0, ringAt = fullPool == null ? 0 : fullPool.pages();
        int tileCount = 0;
        for (int t = 0; t < rows; t++) {
            TornadoKvCache cache = caches[t];
            int[] at = offsets.get(cache);
            if (at == null) {
                at = new int[]{fullAt, ringAt};
                offsets.put(cache, at);
                cache.copyFullPages(pageTableHost, fullAt);
                cache.copyRingPages(pageTableHost, ringAt);
                fullAt += cache.fullPageCount();
                ringAt += cache.ringPageCount();
            }
            int position = batch.positions()[start + t];
            rowMetaHost[t * meta] = position;
            rowMetaHost[t * meta + 1] = at[0];
            rowMetaHost[t * meta + 2] = at[1];
            rope.copy(position, cosHost, sinHost, t * half);
            // Prefill tiles: runs of consecutive positions of one sequence, at most TILE_ROWS long.
            boolean extends_ = tileCount > 0 && caches[t - 1] == cache && batch.positions()[start + t - 1] == position - 1
                    && tilesHost[2 * tileCount - 1] < AttentionKernels.TILE_ROWS;
            if (extends_) {
                tilesHost[2 * tileCount - 1]++;
            } else {
                tilesHost[2 * tileCount] = t;
                tilesHost[2 * tileCount + 1] = 1;
                tileCount++;
            }
        }
        copy(rowMetaHost, rows * meta, b.rowMeta);
        copy(pageTableHost, pageTableHost.length, b.pageTable);
        copy(tilesHost, 2 * tileCount, b.tiles);
        copy(cosHost, rows * half, b.cos);
        copy(sinHost, rows * half, b.sin);
        return tileCount;
    }

    // -------------------------------------------------------------------------------------------- whole step

    @Override
    public WholeStep wholeStep() {
        return step == null ? null : this::forward;
    }

    /** {@link WholeStep#forward}: one execution of the step graph per {@code maxRows} rows. */
    private void forward(TokenBatch batch, float[] logits, int logitsOffset, boolean allRows, WholeStep.StepTrace trace) {
        int T = batch.size(), V = c.vocabSize(), H = c.hiddenSize(), k = c.expertsPerToken(), E = c.numExperts();
        int record = trace == null ? 0 : RoutingKernels.RECORD_ROUTING | (trace.residuals() != null ? RoutingKernels.RECORD_RESIDUALS : 0);
        for (int start = 0; start < T; start += b.maxRows) {
            int rows = Math.min(b.maxRows, T - start);
            TornadoKvCache[] caches = new TornadoKvCache[rows];
            int tileCount = prepareRows(batch, start, rows, caches);
            MemorySegment.copy(batch.tokens(), start, step.tokens.getSegment(), ValueLayout.JAVA_INT_UNALIGNED, 0, rows);
            boolean tiled = rows > matvecRows;
            boolean prefill = tiled && tileCount < rows;
            setRows(rows, tiled);
            b.params.set(Params.DECODE_ROWS, prefill ? 0 : rows);
            b.params.set(Params.PREFILL_TILES, prefill ? tileCount : 0);
            b.params.set(Params.RECORD, record);
            boolean last = start + rows == T;
            boolean wanted = logits != null && (allRows || last);
            // The head runs on the rows whose logits are wanted (all, or the last), as the host-orchestrated path does.
            int headRows = wanted ? (allRows ? rows : 1) : 0;
            boolean headTiled = headRows > matvecRows;
            step.headParams.set(Params.ROWS, headRows);
            step.headParams.set(Params.FIRST_ROW, allRows ? 0 : rows - 1);
            step.headParams.set(Params.MATVEC_ROWS, headTiled ? 0 : headRows);
            step.headParams.set(Params.TILED_ROWS, headTiled ? headRows : 0);
            List<String> active = step.size(rows, tiled, prefill, tileCount, headRows, headTiled);
            TornadoExecutionResult result = plan.withGraph(step.index).execute();
            executions++;
            uploaded += step.uploadBytes;
            long copyStart = System.nanoTime();
            if (wanted) {
                readBack(result, step.logits, 0, headRows * V);
                MemorySegment.copy(step.logits.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, logits,
                        logitsOffset + (allRows ? start * V : 0), headRows * V);
            }
            if (trace != null) {
                int stride = 2 * k + E;
                readBack(result, step.routing, 0, c.numLayers() * b.maxRows * stride);
                for (int l = 0; l < c.numLayers(); l++) {
                    for (int t = 0; t < rows; t++) {
                        long at = ((long) (l * b.maxRows + t) * stride);
                        for (int s = 0; s < k; s++) {
                            trace.experts()[l][(start + t) * k + s] = (int) step.routing.get((int) at + s);
                            trace.weights()[l][(start + t) * k + s] = step.routing.get((int) at + k + s);
                        }
                        MemorySegment.copy(step.routing.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, (at + 2 * k) * 4,
                                trace.routerLogits()[l], (start + t) * E, E);
                    }
                }
                if (trace.residuals() != null) {
                    readBack(result, step.residuals, 0, (c.numLayers() + 1) * b.maxRows * H);
                    for (int l = 0; l <= c.numLayers(); l++) {
                        MemorySegment.copy(step.residuals.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, (long) l * b.maxRows * H * 4,
                                trace.residuals()[l], start * H, rows * H);
                    }
                }
            }
            if (profiler != null) profiler.record(step, result, active, System.nanoTime() - copyStart);
            for (int t = 0; t < rows; t++) caches[t].advance(batch.positions()[start + t] + 1);
        }
    }


    private void readBack(TornadoExecutionResult result, FloatArray array, int offset, int count) {
        result.transferToHost(new DataRange(array).withOffset(offset).withSize(count));
        downloaded += 4L * count;
    }

    @Override
    public DeviceTraffic deviceTraffic() {
        return new DeviceTraffic(executions, uploaded, downloaded);
    }

    private void partsOnly(String what) {
        if (step != null) {
            throw new IllegalStateException(name + " holds the whole model and runs whole steps (Backend.wholeStep); "
                    + what + " is served only by a backend built with -D" + TornadoSettings.PREFIX + "resident=false or for part of a model");
        }
    }

    // ------------------------------------------------------------------------------------------------- MoE

    @Override
    public void router(int layer, int rows, float[] x, float[] normed, float[] routerLogits) {
        partsOnly("router");
        RouterStage stage = routers[layer];
        if (stage == null) throw new IllegalArgumentException(name + " does not hold the router of layer " + layer);
        int H = c.hiddenSize(), E = c.numExperts();
        if (layer == routedLayer && rows == routedRows && Arrays.equals(x, 0, rows * H, routedX, 0, rows * H)) {
            System.arraycopy(routedNormed, 0, normed, 0, rows * H);
            System.arraycopy(routedLogits, 0, routerLogits, 0, rows * E);
            return;
        }
        for (int start = 0; start < rows; start += b.maxRows) {
            int n = Math.min(b.maxRows, rows - start);
            MemorySegment.copy(x, start * H, b.x.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, n * H);
            boolean tiled = n > matvecRows;
            setRows(n, tiled);
            execute(stage, stage.size(n, tiled), b.normed, n * H, b.routerLogits, n * E);
            MemorySegment.copy(b.normed.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, normed, start * H, n * H);
            MemorySegment.copy(b.routerLogits.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, routerLogits, start * E, n * E);
        }
    }

    @Override
    public void expert(int layer, int expert, int[] rows, int count, float[] normed, float[] out) {
        partsOnly("expert");
        ExpertStage stage = experts[layer];
        int local = stage == null ? -1 : stage.localIndex[expert];
        if (local < 0) throw new IllegalArgumentException(name + " does not hold expert " + expert + " of layer " + layer);
        int H = c.hiddenSize();
        MemorySegment in = b.expertIn.getSegment();
        for (int start = 0; start < count; start += b.maxRows) {
            int n = Math.min(b.maxRows, count - start);
            for (int i = 0; i < n; i++) MemorySegment.copy(normed, rows[start + i] * H, in, ValueLayout.JAVA_FLOAT_UNALIGNED, (long) i * H * 4, H);
            boolean tiled = n > matvecRows;
            setRows(n, tiled);
            b.params.set(Params.EXPERT, local);
            execute(stage, stage.size(n, tiled), b.expertOut, n * H);
            MemorySegment.copy(b.expertOut.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, out, start * H, n * H);
        }
    }

    // ------------------------------------------------------------------------------------------------ head

    @Override
    public void head(int rows, float[] x, float[] logits) {
        partsOnly("head");
        if (head == null) throw new IllegalArgumentException(name + " does not hold the head");
        int H = c.hiddenSize(), V = c.vocabSize();
        for (int start = 0; start < rows; start += b.maxRows) {
            int n = Math.min(b.maxRows, rows - start);
            MemorySegment.copy(x, start * H, b.x.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, n * H);
            boolean tiled = n > matvecRows;
            setRows(n, tiled);
            execute(head, head.size(n, tiled), head.logits, n * V);
            MemorySegment.copy(head.logits.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, logits, start * V, n * V);
        }
    }

    // ------------------------------------------------------------------------------------------- execution

    private void setRows(int rows, boolean tiled) {
        b.params.set(Params.ROWS, rows);
        b.params.set(Params.MATVEC_ROWS, tiled ? 0 : rows);
        b.params.set(Params.TILED_ROWS, tiled ? rows : 0);
    }

    /** Runs {@code stage}'s graph, then reads back the first {@code counts[i]} elements of each {@code outputs[i]}. */
    private void execute(Stage stage, List<String> activeTasks, Object... outputsAndCounts) {
        TornadoExecutionResult result = plan.withGraph(stage.index).execute();
        executions++;
        uploaded += stage.uploadBytes;
        long copyStart = System.nanoTime();
        for (int i = 0; i < outputsAndCounts.length; i += 2) {
            FloatArray array = (FloatArray) outputsAndCounts[i];
            int count = (Integer) outputsAndCounts[i + 1];
            if (count > 0) readBack(result, array, 0, count);
        }
        if (profiler != null) profiler.record(stage, result, activeTasks, System.nanoTime() - copyStart);
    }

    private static void copy(int[] from, int count, IntArray to) {
        MemorySegment.copy(from, 0, to.getSegment(), ValueLayout.JAVA_INT_UNALIGNED, 0, count);
    }

    private static void copy(float[] from, int count, FloatArray to) {
        MemorySegment.copy(from, 0, to.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, count);
    }

    @Override
    public Map<String, KernelTiming> drainKernelTimings() {
        return profiler == null ? Map.of() : profiler.drain();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            plan.freeDeviceMemory();
            plan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new IllegalStateException(name + ": closing the execution plan failed: " + e.getMessage(), e);
        }
    }
}
