package gptoss.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * One MoE expert (spec §2.3.4) with MXFP4 weights decoded inside the products: the 16 bytes of a block hold
 * elements 2j (low nibble) and 2j+1 (high nibble), value = FP4[nibble] · 2^(scale − 127), looked up in
 * {@link DecodeTables}. The weights of all experts a backend holds in a layer lie in one array, expert
 * {@code params[EXPERT]} first at row {@code expert · rows}:
 * gate/up blocks [E, 2I, H/32, 16], scales [E, 2I, H/32], bias [E, 2I] (rows interleave gate (even) and
 * linear (odd)); down blocks [E, H, I/32, 16], scales [E, H, I/32], bias [E, H].
 * <ul>
 *   <li>{@link #gateUp}: {@code y[t, j] = swiglu(W1[2j]·x[t] + b1[2j], W1[2j+1]·x[t] + b1[2j+1])} with the
 *       clamped SwiGLU; the gate and linear rows of a channel are computed side by side.</li>
 *   <li>{@link #down}: {@code out[t] = W2 · y[t] + b2}.</li>
 * </ul>
 * Like {@link MatmulKernels}, each runs one of two ways chosen per execution. Decode ({@code params[MATVEC_ROWS]
 * > 0}): {@code lanes} threads per output channel split the bytes of its row and reduce in local memory,
 * {@code LOCAL / lanes} channels per work-group of (LOCAL, 1). Prefill ({@code params[TILED_ROWS] > 0}): 16 weight
 * rows × 16 input rows per work-group of (16, 16), one 32-element block per K step, each weight decoded once per
 * tile; the grid covers 2I weight rows for gate/up and H for down.
 */
public final class ExpertKernels {
    /** Work-group size of the decode way (a power of two). */
    public static final int LOCAL = 128;
    /** Tile edge of the prefill way. */
    public static final int TILE = 16;
    /** Elements per MXFP4 block, the K step of the prefill way. */
    private static final int BLOCK = 32;

    private ExpertKernels() {
    }

    /**
     * gpt-oss's clamped SwiGLU: {@code min(g, limit) · σ(α · min(g, limit)) · (clamp(l, ±limit) + 1)}. The exponent
     * is capped at 80 (σ < 2e-35 there): under OpenCL's relaxed math PoCL's exp gave NaN, not infinity, for a gate of -98.
     */
    private static float swiglu(float gate, float linear, float alpha, float limit) {
        float g = TornadoMath.min(gate, limit);
        float l = TornadoMath.max(-limit, TornadoMath.min(linear, limit));
        return g * (1.0f / (1.0f + TornadoMath.exp(TornadoMath.min(-alpha * g, 80f)))) * (l + 1.0f);
    }

    /** Gate/up projection + bias + SwiGLU. x: [rows, H], y: [rows, I]. */
    public static void gateUp(KernelContext ctx, FloatArray x, ByteArray blocks, ByteArray scales, FloatArray bias,
                              FloatArray y, FloatArray tables, IntArray params, int H, int I, float alpha, float limit, int lanes) {
        float[] gatePartial = ctx.allocateFloatLocalArray(LOCAL);
        float[] linearPartial = ctx.allocateFloatLocalArray(LOCAL);
        float[] weights = ctx.allocateFloatLocalArray(TILE * BLOCK);
        float[] inputs = ctx.allocateFloatLocalArray(TILE * BLOCK);
        float[] result = ctx.allocateFloatLocalArray(TILE * TILE);
        int expert = params.get(Params.EXPERT);
        int bytesPerRow = H / 2;
        int blocksPerRow = H / BLOCK;
        int tiledRows = params.get(Params.TILED_ROWS);
        if (tiledRows > 0) {
            // Thread (x, y): weight row c0 + x (a gate or a linear row) against input row t0 + y.
            int lx = ctx.localIdx;
            int ly = ctx.localIdy;
            int c0 = ctx.groupIdx * TILE;
            int t0 = ctx.groupIdy * TILE;
            int firstRow = expert * 2 * I + c0;
            float acc = 0f;
            for (int block = 0; block < blocksPerRow; block++) {
                // Thread (x, y) decodes byte x of weight row y and loads elements 2x, 2x+1 of input row y.
                int row = firstRow + ly;
                int packed = blocks.get(row * bytesPerRow + block * 16 + lx) & 0xFF;
                float scale = DecodeTables.e8m0(scales, row * blocksPerRow + block, tables);
                weights[ly * BLOCK + 2 * lx] = scale * DecodeTables.fp4(packed & 0x0F, tables);
                weights[ly * BLOCK + 2 * lx + 1] = scale * DecodeTables.fp4(packed >> 4, tables);
                int k = block * BLOCK + 2 * lx;
                inputs[ly * BLOCK + 2 * lx] = t0 + ly < tiledRows ? x.get((t0 + ly) * H + k) : 0f;
                inputs[ly * BLOCK + 2 * lx + 1] = t0 + ly < tiledRows ? x.get((t0 + ly) * H + k + 1) : 0f;
                ctx.localBarrier();
                for (int kk = 0; kk < BLOCK; kk++) acc += inputs[ly * BLOCK + kk] * weights[lx * BLOCK + kk];
                ctx.localBarrier();
            }
            result[ly * TILE + lx] = acc + bias.get(firstRow + lx);
            ctx.localBarrier();
            int t = t0 + ly;
            if ((lx & 1) == 0 && t < tiledRows) {
                y.set(t * I + (c0 + lx) / 2, swiglu(result[ly * TILE + lx], result[ly * TILE + lx + 1], alpha, limit));
            }
        } else {
            int lid = ctx.localIdx;
            int lane = lid & (lanes - 1);
            int j = ctx.groupIdx * (LOCAL / lanes) + lid / lanes;
            int rows = params.get(Params.MATVEC_ROWS);
            int gateRow = expert * 2 * I + 2 * j;
            for (int t = 0; t < rows; t++) {
                float gate = 0f;
                float linear = 0f;
                if (j < I) {
                    for (int b = lane; b < bytesPerRow; b += lanes) {
                        float x0 = x.get(t * H + 2 * b);
                        float x1 = x.get(t * H + 2 * b + 1);
                        int g = blocks.get(gateRow * bytesPerRow + b) & 0xFF;
                        int l = blocks.get((gateRow + 1) * bytesPerRow + b) & 0xFF;
                        float gScale = DecodeTables.e8m0(scales, gateRow * blocksPerRow + (b >> 4), tables);
                        float lScale = DecodeTables.e8m0(scales, (gateRow + 1) * blocksPerRow + (b >> 4), tables);
                        gate += gScale * (DecodeTables.fp4(g & 0x0F, tables) * x0 + DecodeTables.fp4(g >> 4, tables) * x1);
                        linear += lScale * (DecodeTables.fp4(l & 0x0F, tables) * x0 + DecodeTables.fp4(l >> 4, tables) * x1);
                    }
                }
                gatePartial[lid] = gate;
                linearPartial[lid] = linear;
                ctx.localBarrier();
                for (int stride = lanes / 2; stride > 0; stride >>= 1) {
                    if (lane < stride) {
                        gatePartial[lid] += gatePartial[lid + stride];
                        linearPartial[lid] += linearPartial[lid + stride];
                    }
                    ctx.localBarrier();
                }
                if (lane == 0 && j < I) {
                    y.set(t * I + j, swiglu(gatePartial[lid] + bias.get(gateRow), linearPartial[lid] + bias.get(gateRow + 1), alpha, limit));
                }
                ctx.localBarrier();
            }
        }
    }

    /** Down projection + bias. y: [rows, I], out: [rows, H]. */
    public static void down(KernelContext ctx, FloatArray y, ByteArray blocks, ByteArray scales, FloatArray bias,
                            FloatArray out, FloatArray tables, IntArray params, int H, int I, int lanes) {
        float[] partial = ctx.allocateFloatLocalArray(LOCAL);
        float[] weights = ctx.allocateFloatLocalArray(TILE * BLOCK);
        float[] inputs = ctx.allocateFloatLocalArray(TILE * BLOCK);
        int expert = params.get(Params.EXPERT);
        int bytesPerRow = I / 2;
        int blocksPerRow = I / BLOCK;
        int tiledRows = params.get(Params.TILED_ROWS);
        if (tiledRows > 0) {
            int lx = ctx.localIdx;
            int ly = ctx.localIdy;
            int o0 = ctx.groupIdx * TILE;
            int t0 = ctx.groupIdy * TILE;
            int firstRow = expert * H + o0;
            float acc = 0f;
            for (int block = 0; block < blocksPerRow; block++) {
                int row = firstRow + ly;
                int packed = blocks.get(row * bytesPerRow + block * 16 + lx) & 0xFF;
                float scale = DecodeTables.e8m0(scales, row * blocksPerRow + block, tables);
                weights[ly * BLOCK + 2 * lx] = scale * DecodeTables.fp4(packed & 0x0F, tables);
                weights[ly * BLOCK + 2 * lx + 1] = scale * DecodeTables.fp4(packed >> 4, tables);
                int k = block * BLOCK + 2 * lx;
                inputs[ly * BLOCK + 2 * lx] = t0 + ly < tiledRows ? y.get((t0 + ly) * I + k) : 0f;
                inputs[ly * BLOCK + 2 * lx + 1] = t0 + ly < tiledRows ? y.get((t0 + ly) * I + k + 1) : 0f;
                ctx.localBarrier();
                for (int kk = 0; kk < BLOCK; kk++) acc += inputs[ly * BLOCK + kk] * weights[lx * BLOCK + kk];
                ctx.localBarrier();
            }
            int t = t0 + ly;
            if (t < tiledRows) out.set(t * H + o0 + lx, acc + bias.get(firstRow + lx));
        } else {
            int lid = ctx.localIdx;
            int lane = lid & (lanes - 1);
            int o = ctx.groupIdx * (LOCAL / lanes) + lid / lanes;
            int rows = params.get(Params.MATVEC_ROWS);
            int row = expert * H + o;
            for (int t = 0; t < rows; t++) {
                float sum = 0f;
                if (o < H) {
                    for (int b = lane; b < bytesPerRow; b += lanes) {
                        int w = blocks.get(row * bytesPerRow + b) & 0xFF;
                        float scale = DecodeTables.e8m0(scales, row * blocksPerRow + (b >> 4), tables);
                        sum += scale * (DecodeTables.fp4(w & 0x0F, tables) * y.get(t * I + 2 * b)
                                + DecodeTables.fp4(w >> 4, tables) * y.get(t * I + 2 * b + 1));
                    }
                }
                partial[lid] = sum;
                ctx.localBarrier();
                for (int stride = lanes / 2; stride > 0; stride >>= 1) {
                    if (lane < stride) partial[lid] += partial[lid + stride];
                    ctx.localBarrier();
                }
                if (lane == 0 && o < H) out.set(t * H + o, partial[lid] + bias.get(row));
                ctx.localBarrier();
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Routed variants for the whole-step graph: all experts of a layer in one array (expert e at row e·rows), the
    // router's choice read from a device array (RoutingKernels.route): slot s = t·k + slot of row t runs expert
    // routes[s] on input row t, its output is row s of y / out; routes also holds the slots grouped by expert
    // (order from rowTiles·16·k, starts from twice that, see RoutingKernels.route).
    // Each comes as two kernels, a decode one and a tiled one, both launched every step. Which way an expert's slots
    // take is decided per expert, as the host-orchestrated path decides it per expert call: an expert with at most
    // matvecLimit slots in the step runs the decode way, one with more the tiled way (the two ways sum in different
    // orders, so a per-step choice gave other bits than the host-orchestrated path; ResidentPathTest). A step of at
    // most matvecLimit rows has no tiled expert: the tiled kernel then runs as a single idle work-group that computes
    // on nothing and writes nothing. PoCL 6 mis-runs a kernel whose decode
    // and tiled ways sit in the two arms of one branch with barriers in both when the decode arm has no loop
    // around its barriers (the outputs come out wrong with every argument bound right; the same decode code as a
    // kernel of its own is exact; RoutedKernelsTest). No kernel here returns early or branches around a barrier.

    /**
     * Decode way of the routed gate/up + bias + SwiGLU: work-group column y = slot (rows·k of them; a slot whose
     * expert has more than {@code matvecLimit} slots is left to the tiled way), {@code lanes} threads per channel,
     * {@code LOCAL / lanes} channels per work-group. x: [rows, H], y: [rows·k, I].
     */
    public static void gateUpRoutedDecode(KernelContext ctx, FloatArray x, ByteArray blocks, ByteArray scales, FloatArray bias, FloatArray y,
                                          IntArray routes, FloatArray tables, IntArray params,
                                          int H, int I, float alpha, float limit, int lanes, int k, int rowTiles, int matvecLimit) {
        float[] gatePartial = ctx.allocateFloatLocalArray(LOCAL);
        float[] linearPartial = ctx.allocateFloatLocalArray(LOCAL);
        int bytesPerRow = H / 2;
        int blocksPerRow = H / BLOCK;
        int slot = ctx.groupIdy;
        int startsAt = 2 * rowTiles * TILE * k;
        int chosen = slot < params.get(Params.ROWS) * k ? routes.get(slot) : -1;
        boolean active = chosen >= 0 && routes.get(startsAt + chosen + 1) - routes.get(startsAt + chosen) <= matvecLimit;
        int lid = ctx.localIdx;
        int lane = lid & (lanes - 1);
        int j = ctx.groupIdx * (LOCAL / lanes) + lid / lanes;
        int t = slot / k;
        int gateRow = (active ? routes.get(slot) : 0) * 2 * I + 2 * j;
        float gate = 0f;
        float linear = 0f;
        if (active && j < I) {
            for (int b = lane; b < bytesPerRow; b += lanes) {
                float x0 = x.get(t * H + 2 * b);
                float x1 = x.get(t * H + 2 * b + 1);
                int g = blocks.get(gateRow * bytesPerRow + b) & 0xFF;
                int l = blocks.get((gateRow + 1) * bytesPerRow + b) & 0xFF;
                float gScale = DecodeTables.e8m0(scales, gateRow * blocksPerRow + (b >> 4), tables);
                float lScale = DecodeTables.e8m0(scales, (gateRow + 1) * blocksPerRow + (b >> 4), tables);
                gate += gScale * (DecodeTables.fp4(g & 0x0F, tables) * x0 + DecodeTables.fp4(g >> 4, tables) * x1);
                linear += lScale * (DecodeTables.fp4(l & 0x0F, tables) * x0 + DecodeTables.fp4(l >> 4, tables) * x1);
            }
        }
        gatePartial[lid] = gate;
        linearPartial[lid] = linear;
        ctx.localBarrier();
        for (int stride = lanes / 2; stride > 0; stride >>= 1) {
            if (lane < stride) {
                gatePartial[lid] += gatePartial[lid + stride];
                linearPartial[lid] += linearPartial[lid + stride];
            }
            ctx.localBarrier();
        }
        if (active && lane == 0 && j < I) {
            y.set(slot * I + j, swiglu(gatePartial[lid] + bias.get(gateRow), linearPartial[lid] + bias.get(gateRow + 1), alpha, limit));
        }
    }

    /**
     * Tiled way of the routed gate/up: (16, 16) tiles of 16 weight rows × 16 slots of one expert; work-group row
     * y = e·rowTiles + r takes expert e's slots r·16 .. r·16+15 (none: it computes on zeros and writes nothing).
     */
    public static void gateUpRoutedTiled(KernelContext ctx, FloatArray x, ByteArray blocks, ByteArray scales, FloatArray bias, FloatArray y,
                                         IntArray routes, FloatArray tables, IntArray params,
                                         int H, int I, float alpha, float limit, int k, int rowTiles, int matvecLimit) {
        float[] weights = ctx.allocateFloatLocalArray(TILE * BLOCK);
        float[] inputs = ctx.allocateFloatLocalArray(TILE * BLOCK);
        float[] result = ctx.allocateFloatLocalArray(TILE * TILE);
        int bytesPerRow = H / 2;
        int blocksPerRow = H / BLOCK;
        int lx = ctx.localIdx;
        int ly = ctx.localIdy;
        int c0 = ctx.groupIdx * TILE;
        int expert = ctx.groupIdy / rowTiles;
        int orderAt = rowTiles * TILE * k;
        int startsAt = 2 * orderAt;
        int first = routes.get(startsAt + expert) + (ctx.groupIdy - expert * rowTiles) * TILE;
        int slots = routes.get(startsAt + expert + 1) - routes.get(startsAt + expert);
        int count = params.get(Params.TILED_ROWS) > 0 && slots > matvecLimit ? Math.min(TILE, routes.get(startsAt + expert + 1) - first) : 0;
        int steps = count > 0 ? blocksPerRow : 0; // an idle tile (the same in the whole work-group) skips the weights
        int firstRow = expert * 2 * I + c0;
        int slot = ly < count ? routes.get(orderAt + first + ly) : 0;
        int inRow = slot / k;
        float acc = 0f;
        for (int block = 0; block < steps; block++) {
            int row = firstRow + ly;
            int packed = blocks.get(row * bytesPerRow + block * 16 + lx) & 0xFF;
            float scale = DecodeTables.e8m0(scales, row * blocksPerRow + block, tables);
            weights[ly * BLOCK + 2 * lx] = scale * DecodeTables.fp4(packed & 0x0F, tables);
            weights[ly * BLOCK + 2 * lx + 1] = scale * DecodeTables.fp4(packed >> 4, tables);
            int kk0 = block * BLOCK + 2 * lx;
            inputs[ly * BLOCK + 2 * lx] = ly < count ? x.get(inRow * H + kk0) : 0f;
            inputs[ly * BLOCK + 2 * lx + 1] = ly < count ? x.get(inRow * H + kk0 + 1) : 0f;
            ctx.localBarrier();
            for (int kk = 0; kk < BLOCK; kk++) acc += inputs[ly * BLOCK + kk] * weights[lx * BLOCK + kk];
            ctx.localBarrier();
        }
        result[ly * TILE + lx] = acc + bias.get(firstRow + lx);
        ctx.localBarrier();
        if ((lx & 1) == 0 && ly < count) {
            y.set(slot * I + (c0 + lx) / 2, swiglu(result[ly * TILE + lx], result[ly * TILE + lx + 1], alpha, limit));
        }
    }

    /** Decode way of the routed down projection + bias. y: [rows·k, I], out: [rows·k, H]. */
    public static void downRoutedDecode(KernelContext ctx, FloatArray y, ByteArray blocks, ByteArray scales, FloatArray bias, FloatArray out,
                                        IntArray routes, FloatArray tables, IntArray params, int H, int I, int lanes, int k, int rowTiles,
                                        int matvecLimit) {
        float[] partial = ctx.allocateFloatLocalArray(LOCAL);
        int bytesPerRow = I / 2;
        int blocksPerRow = I / BLOCK;
        int slot = ctx.groupIdy;
        int startsAt = 2 * rowTiles * TILE * k;
        int chosen = slot < params.get(Params.ROWS) * k ? routes.get(slot) : -1;
        boolean active = chosen >= 0 && routes.get(startsAt + chosen + 1) - routes.get(startsAt + chosen) <= matvecLimit;
        int lid = ctx.localIdx;
        int lane = lid & (lanes - 1);
        int o = ctx.groupIdx * (LOCAL / lanes) + lid / lanes;
        int row = (active ? routes.get(slot) : 0) * H + o;
        float sum = 0f;
        if (active && o < H) {
            for (int b = lane; b < bytesPerRow; b += lanes) {
                int w = blocks.get(row * bytesPerRow + b) & 0xFF;
                float scale = DecodeTables.e8m0(scales, row * blocksPerRow + (b >> 4), tables);
                sum += scale * (DecodeTables.fp4(w & 0x0F, tables) * y.get(slot * I + 2 * b)
                        + DecodeTables.fp4(w >> 4, tables) * y.get(slot * I + 2 * b + 1));
            }
        }
        partial[lid] = sum;
        ctx.localBarrier();
        for (int stride = lanes / 2; stride > 0; stride >>= 1) {
            if (lane < stride) partial[lid] += partial[lid + stride];
            ctx.localBarrier();
        }
        if (active && lane == 0 && o < H) out.set(slot * H + o, partial[lid] + bias.get(row));
    }

    /** Tiled way of the routed down projection + bias, tiles as {@link #gateUpRoutedTiled}. */
    public static void downRoutedTiled(KernelContext ctx, FloatArray y, ByteArray blocks, ByteArray scales, FloatArray bias, FloatArray out,
                                       IntArray routes, FloatArray tables, IntArray params, int H, int I, int k, int rowTiles,
                                       int matvecLimit) {
        float[] weights = ctx.allocateFloatLocalArray(TILE * BLOCK);
        float[] inputs = ctx.allocateFloatLocalArray(TILE * BLOCK);
        int bytesPerRow = I / 2;
        int blocksPerRow = I / BLOCK;
        int lx = ctx.localIdx;
        int ly = ctx.localIdy;
        int o0 = ctx.groupIdx * TILE;
        int expert = ctx.groupIdy / rowTiles;
        int orderAt = rowTiles * TILE * k;
        int startsAt = 2 * orderAt;
        int first = routes.get(startsAt + expert) + (ctx.groupIdy - expert * rowTiles) * TILE;
        int slots = routes.get(startsAt + expert + 1) - routes.get(startsAt + expert);
        int count = params.get(Params.TILED_ROWS) > 0 && slots > matvecLimit ? Math.min(TILE, routes.get(startsAt + expert + 1) - first) : 0;
        int steps = count > 0 ? blocksPerRow : 0; // an idle tile (the same in the whole work-group) skips the weights
        int firstRow = expert * H + o0;
        int slot = ly < count ? routes.get(orderAt + first + ly) : 0;
        float acc = 0f;
        for (int block = 0; block < steps; block++) {
            int row = firstRow + ly;
            int packed = blocks.get(row * bytesPerRow + block * 16 + lx) & 0xFF;
            float scale = DecodeTables.e8m0(scales, row * blocksPerRow + block, tables);
            weights[ly * BLOCK + 2 * lx] = scale * DecodeTables.fp4(packed & 0x0F, tables);
            weights[ly * BLOCK + 2 * lx + 1] = scale * DecodeTables.fp4(packed >> 4, tables);
            int kk0 = block * BLOCK + 2 * lx;
            inputs[ly * BLOCK + 2 * lx] = ly < count ? y.get(slot * I + kk0) : 0f;
            inputs[ly * BLOCK + 2 * lx + 1] = ly < count ? y.get(slot * I + kk0 + 1) : 0f;
            ctx.localBarrier();
            for (int kk = 0; kk < BLOCK; kk++) acc += inputs[ly * BLOCK + kk] * weights[lx * BLOCK + kk];
            ctx.localBarrier();
        }
        if (ly < count) out.set(slot * H + o0 + lx, acc + bias.get(firstRow + lx));
    }
}
