package gptoss.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Attention of one layer (spec §2.2, steps 3-4): RoPE and the KV-cache write, then softmax attention with a
 * learned sink per head, an optional sliding window and grouped KV heads (query head h reads KV head
 * h / (NH / NKV)).
 *
 * <p>Layouts. {@code qkv} [rows, NH·D + 2·NKV·D] is the fused projection (q, then k, then v). The cache of a
 * layer is a pool of pages of {@link #PAGE} positions, [pages · PAGE, NKV·D] for keys and the same for values.
 * A sequence owns a list of pages; {@code pageTable} holds the lists of the sequences in the batch and
 * {@code rowMeta} [rows, 3] gives each row its position and where its sequence's list starts (slot 1 for
 * full-attention layers, slot 2 for sliding ones). Full layers store position p at logical slot p; sliding
 * layers keep a ring of {@code ring} slots (window + batch rows, so a batch never overwrites a key one of its
 * own rows still needs) and store p at p mod ring.
 *
 * <p>Softmax. Both attention kernels run an online softmax over chunks of keys (running max, rescaled sum and
 * output) and add the sink to the denominator at the end: {@code o = Σ_j e^{s_j−M} v_j / (e^{sink−M} + Σ_j e^{s_j−M})}.
 */
public final class AttentionKernels {
    /** Positions per cache page (a power of two). */
    public static final int PAGE = 16;
    public static final int PAGE_SHIFT = 4;
    /** Ints per row in {@code rowMeta}: position, page-list offset for full layers, for sliding layers. */
    public static final int META = 3;
    /** Work-group size of the attention kernels; also the largest head dimension they support. */
    public static final int LOCAL = 64;
    public static final int MAX_HEAD_DIM = LOCAL;
    /** Query rows per tile of {@link #prefill}. */
    public static final int TILE_ROWS = 16;
    /** Keys per step of {@link #prefill}. */
    public static final int TILE_KEYS = 32;
    /** Stands for −∞ in running maxima (finite, so that differences of two of them stay finite). */
    private static final float NEG = -3.0e38f;

    private AttentionKernels() {
    }

    /** Cache slot of {@code position} for a sequence whose page list starts at {@code tableOffset}. */
    private static int slot(IntArray pageTable, int tableOffset, int position, int ring) {
        int logical = ring > 0 ? position % ring : position;
        return (pageTable.get(tableOffset + (logical >> PAGE_SHIFT)) << PAGE_SHIFT) + (logical & (PAGE - 1));
    }

    /**
     * RoPE (half-split pairs, cos/sin of each row's position precomputed on the host, concentration included)
     * applied to q in place and to k, then k and v written to the cache. One work-group per row
     * ({@code t < params[ROWS]}), local size {@link #LOCAL}. cos, sin: [rows, D/2].
     */
    public static void ropeAndStore(KernelContext ctx, FloatArray qkv, FloatArray cos, FloatArray sin, IntArray rowMeta,
                                    IntArray pageTable, FloatArray keys, FloatArray values, IntArray params,
                                    int NH, int NKV, int D, int ring, int tableSlot) {
        int t = ctx.groupIdx;
        int lid = ctx.localIdx;
        if (t < params.get(Params.ROWS)) {
            int half = D / 2;
            int Q = NH * D;
            int KV = NKV * D;
            int rowBase = t * (Q + 2 * KV);
            int position = rowMeta.get(t * META);
            int cacheBase = slot(pageTable, rowMeta.get(t * META + tableSlot), position, ring) * KV;
            int pairs = (NH + NKV) * half;
            for (int p = lid; p < pairs; p += LOCAL) {
                int head = p / half;
                int i = p - head * half;
                float c = cos.get(t * half + i);
                float s = sin.get(t * half + i);
                int base = rowBase + head * D; // k heads follow the q heads in qkv
                float x1 = qkv.get(base + i);
                float x2 = qkv.get(base + half + i);
                float r1 = x1 * c - x2 * s;
                float r2 = x2 * c + x1 * s;
                if (head < NH) {
                    qkv.set(base + i, r1);
                    qkv.set(base + half + i, r2);
                } else {
                    int k = (head - NH) * D;
                    keys.set(cacheBase + k + i, r1);
                    keys.set(cacheBase + k + half + i, r2);
                }
            }
            for (int e = lid; e < KV; e += LOCAL) values.set(cacheBase + e, qkv.get(rowBase + Q + KV + e));
        }
    }

    /**
     * Attention of the rows of this execution, run one of two ways chosen per execution; 2-D grid, y = query head,
     * work-groups of (LOCAL, 1) threads. att: [rows, NH·D].
     * <ul>
     *   <li>decode ({@code params[DECODE_ROWS] > 0}): one work-group per (row, head), grid (rows·LOCAL, NH). The
     *       group's threads take one key each per chunk of LOCAL keys (score, then max and sum by local-memory
     *       reductions) and thread d accumulates output dimension d.</li>
     *   <li>prefill ({@code params[PREFILL_TILES] > 0}): flash attention, one work-group per (query tile, head),
     *       grid (tiles·LOCAL, NH). A tile ({@code tiles[2i]} = first row, {@code tiles[2i+1]} = row count ≤
     *       {@link #TILE_ROWS}) holds consecutive positions of one sequence; keys and values stream through
     *       local memory {@link #TILE_KEYS} at a time and serve every row of the tile.</li>
     * </ul>
     */
    public static void attention(KernelContext ctx, FloatArray qkv, FloatArray keys, FloatArray values, FloatArray sinks,
                                 IntArray rowMeta, IntArray pageTable, IntArray tiles, FloatArray att, IntArray params,
                                 int NH, int NKV, int D, int window, int ring, int tableSlot, float scale) {
        // Local memory of the prefill way; the decode way borrows the first LOCAL entries of q, p and acc.
        float[] q = ctx.allocateFloatLocalArray(TILE_ROWS * MAX_HEAD_DIM);
        float[] k = ctx.allocateFloatLocalArray(TILE_KEYS * MAX_HEAD_DIM);
        float[] v = ctx.allocateFloatLocalArray(TILE_KEYS * MAX_HEAD_DIM);
        float[] p = ctx.allocateFloatLocalArray(TILE_ROWS * TILE_KEYS);
        float[] acc = ctx.allocateFloatLocalArray(TILE_ROWS * MAX_HEAD_DIM);
        float[] rowMax = ctx.allocateFloatLocalArray(TILE_ROWS);
        float[] rowSum = ctx.allocateFloatLocalArray(TILE_ROWS);
        float[] rowCorrection = ctx.allocateFloatLocalArray(TILE_ROWS);
        int[] slots = ctx.allocateIntLocalArray(LOCAL);
        int h = ctx.groupIdy;
        int lid = ctx.localIdx;
        int Q = NH * D;
        int KV = NKV * D;
        int kvOffset = (h / (NH / NKV)) * D;
        int tileCount = params.get(Params.PREFILL_TILES);
        if (tileCount > 0) {
            int tile = ctx.groupIdx;
            if (tile < tileCount) {
                int row0 = tiles.get(2 * tile);
                int count = tiles.get(2 * tile + 1);
                int position0 = rowMeta.get(row0 * META);
                int tableOffset = rowMeta.get(row0 * META + tableSlot);
                int first = window > 0 ? Math.max(0, position0 - window + 1) : 0;
                int last = position0 + count - 1;
                for (int e = lid; e < TILE_ROWS * D; e += LOCAL) {
                    int i = e / D;
                    q[e] = i < count ? qkv.get((row0 + i) * (Q + 2 * KV) + h * D + (e - i * D)) : 0f;
                    acc[e] = 0f;
                }
                if (lid < TILE_ROWS) {
                    rowMax[lid] = NEG;
                    rowSum[lid] = 0f;
                }
                ctx.localBarrier();
                for (int key0 = first; key0 <= last; key0 += TILE_KEYS) {
                    if (lid < TILE_KEYS) slots[lid] = key0 + lid <= last ? slot(pageTable, tableOffset, key0 + lid, ring) : 0;
                    ctx.localBarrier();
                    for (int e = lid; e < TILE_KEYS * D; e += LOCAL) {
                        int j = e / D;
                        int d = e - j * D;
                        boolean present = key0 + j <= last;
                        k[e] = present ? keys.get(slots[j] * KV + kvOffset + d) : 0f;
                        v[e] = present ? values.get(slots[j] * KV + kvOffset + d) : 0f;
                    }
                    ctx.localBarrier();
                    for (int e = lid; e < TILE_ROWS * TILE_KEYS; e += LOCAL) {
                        int i = e / TILE_KEYS;
                        int key = key0 + e - i * TILE_KEYS;
                        int position = position0 + i;
                        float score = NEG;
                        if (i < count && key <= position && (window == 0 || key > position - window)) {
                            float dot = 0f;
                            for (int d = 0; d < D; d++) dot += q[i * D + d] * k[(key - key0) * D + d];
                            score = dot * scale;
                        }
                        p[e] = score;
                    }
                    ctx.localBarrier();
                    if (lid < TILE_ROWS) {
                        int i = lid;
                        float chunkMax = NEG;
                        for (int j = 0; j < TILE_KEYS; j++) chunkMax = TornadoMath.max(chunkMax, p[i * TILE_KEYS + j]);
                        float newMax = TornadoMath.max(rowMax[i], chunkMax);
                        float chunkSum = 0f;
                        for (int j = 0; j < TILE_KEYS; j++) {
                            float score = p[i * TILE_KEYS + j];
                            float e = score > NEG ? TornadoMath.exp(score - newMax) : 0f;
                            p[i * TILE_KEYS + j] = e;
                            chunkSum += e;
                        }
                        float correction = TornadoMath.exp(rowMax[i] - newMax);
                        rowSum[i] = rowSum[i] * correction + chunkSum;
                        rowMax[i] = newMax;
                        rowCorrection[i] = correction;
                    }
                    ctx.localBarrier();
                    for (int e = lid; e < TILE_ROWS * D; e += LOCAL) {
                        int i = e / D;
                        int d = e - i * D;
                        float a = acc[e] * rowCorrection[i];
                        for (int j = 0; j < TILE_KEYS; j++) a += p[i * TILE_KEYS + j] * v[j * D + d];
                        acc[e] = a;
                    }
                    ctx.localBarrier();
                }
                float sink = sinks.get(h);
                for (int e = lid; e < TILE_ROWS * D; e += LOCAL) {
                    int i = e / D;
                    if (i < count) {
                        float finalMax = TornadoMath.max(rowMax[i], sink);
                        float correction = TornadoMath.exp(rowMax[i] - finalMax);
                        float denominator = rowSum[i] * correction + TornadoMath.exp(sink - finalMax);
                        att.set((row0 + i) * Q + h * D + (e - i * D), acc[e] * correction / denominator);
                    }
                }
            }
        } else {
            int t = ctx.groupIdx;
            if (t < params.get(Params.DECODE_ROWS)) {
                int position = rowMeta.get(t * META);
                int tableOffset = rowMeta.get(t * META + tableSlot);
                int first = window > 0 ? Math.max(0, position - window + 1) : 0;
                int count = position - first + 1;
                if (lid < D) q[lid] = qkv.get(t * (Q + 2 * KV) + h * D + lid);
                ctx.localBarrier();
                float max = NEG;
                float sum = 0f;
                float out = 0f;
                for (int c = 0; c < count; c += LOCAL) {
                    int j = c + lid;
                    float score = NEG;
                    if (j < count) {
                        int s = slot(pageTable, tableOffset, first + j, ring);
                        slots[lid] = s;
                        int kBase = s * KV + kvOffset;
                        float dot = 0f;
                        for (int d = 0; d < D; d++) dot += q[d] * keys.get(kBase + d);
                        score = dot * scale;
                    }
                    acc[lid] = score;
                    ctx.localBarrier();
                    for (int stride = LOCAL / 2; stride > 0; stride >>= 1) {
                        if (lid < stride) acc[lid] = TornadoMath.max(acc[lid], acc[lid + stride]);
                        ctx.localBarrier();
                    }
                    float newMax = TornadoMath.max(max, acc[0]);
                    ctx.localBarrier();
                    float weight = j < count ? TornadoMath.exp(score - newMax) : 0f;
                    p[lid] = weight;
                    acc[lid] = weight;
                    ctx.localBarrier();
                    for (int stride = LOCAL / 2; stride > 0; stride >>= 1) {
                        if (lid < stride) acc[lid] += acc[lid + stride];
                        ctx.localBarrier();
                    }
                    float correction = TornadoMath.exp(max - newMax);
                    sum = sum * correction + acc[0];
                    max = newMax;
                    if (lid < D) {
                        int n = Math.min(LOCAL, count - c);
                        float a = out * correction;
                        for (int i = 0; i < n; i++) a += p[i] * values.get(slots[i] * KV + kvOffset + lid);
                        out = a;
                    }
                    ctx.localBarrier();
                }
                float sink = sinks.get(h);
                float finalMax = TornadoMath.max(max, sink);
                float correction = TornadoMath.exp(max - finalMax);
                float denominator = sum * correction + TornadoMath.exp(sink - finalMax);
                if (lid < D) att.set(t * Q + h * D + lid, out * correction / denominator);
            }
        }
    }
}
