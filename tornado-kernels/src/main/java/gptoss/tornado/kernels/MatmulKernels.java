package gptoss.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * Dense products with BF16 weights W [O, K] (row-major, "out × in" as nn.Linear), fp32 activations:
 * {@code out[t, o] = W[o] · in[t] (+ bias[o]) (+ out[t, o])}. Used for the fused QKV projection, the output
 * projection (accumulating into the residual stream), the router and the unembedding. One kernel, two ways of
 * running chosen per execution (so a graph launches one task per product, not an idle second variant):
 * <ul>
 *   <li>decode ({@code params[MATVEC_ROWS] > 0}): a matrix-vector product. {@code lanes} threads (a power of
 *       two ≤ 32) split the K of one output row and reduce in local memory, {@code LOCAL / lanes} output rows
 *       per work-group; the few rows of the batch are taken one after the other (the weight row stays in
 *       cache). Grid (⌈O / (LOCAL / lanes)⌉·LOCAL, 1), work-groups (LOCAL, 1).</li>
 *   <li>prefill ({@code params[TILED_ROWS] > 0}): 16×16 output tiles (16 outputs × 16 rows), K walked in steps of
 *       16 through local memory, so each weight is read once per 16 rows and decoded once per tile. Grid
 *       (⌈O/16⌉·16, ⌈rows/16⌉·16), work-groups (16, 16). K must be a multiple of 16.</li>
 * </ul>
 */
public final class MatmulKernels {
    /** Work-group size of the decode way (a power of two). */
    public static final int LOCAL = 128;
    /** Tile edge of the prefill way: work-groups are TILE × TILE threads. */
    public static final int TILE = 16;

    private MatmulKernels() {
    }

    public static void product(KernelContext ctx, FloatArray in, ShortArray w, FloatArray bias, FloatArray out, FloatArray tables,
                               IntArray params, int K, int O, int flags, int lanes) {
        float[] partial = ctx.allocateFloatLocalArray(LOCAL);
        float[] weights = ctx.allocateFloatLocalArray(TILE * TILE); // [output][k]
        float[] inputs = ctx.allocateFloatLocalArray(TILE * TILE);  // [row][k]
        int tiledRows = params.get(Params.TILED_ROWS);
        if (tiledRows > 0) {
            int lx = ctx.localIdx;
            int ly = ctx.localIdy;
            int o0 = ctx.groupIdx * TILE;
            int t0 = ctx.groupIdy * TILE;
            int loadOutput = o0 + ly;
            int loadRow = t0 + ly;
            float acc = 0f;
            for (int k0 = 0; k0 < K; k0 += TILE) {
                weights[ly * TILE + lx] = loadOutput < O ? DecodeTables.bf16(w, loadOutput * K + k0 + lx, tables) : 0f;
                inputs[ly * TILE + lx] = loadRow < tiledRows ? in.get(loadRow * K + k0 + lx) : 0f;
                ctx.localBarrier();
                for (int kk = 0; kk < TILE; kk++) acc += inputs[ly * TILE + kk] * weights[lx * TILE + kk];
                ctx.localBarrier();
            }
            int o = o0 + lx;
            int t = t0 + ly;
            if (o < O && t < tiledRows) {
                float v = acc;
                if ((flags & Params.HAS_BIAS) != 0) v += bias.get(o);
                if ((flags & Params.ACCUMULATE) != 0) v += out.get(t * O + o);
                out.set(t * O + o, v);
            }
        } else {
            int lid = ctx.localIdx;
            int lane = lid & (lanes - 1);
            int o = ctx.groupIdx * (LOCAL / lanes) + lid / lanes;
            int rows = params.get(Params.MATVEC_ROWS);
            int wBase = o * K;
            for (int t = 0; t < rows; t++) {
                int xBase = t * K;
                // Four independent sums (element lane + (4j+i)·lanes goes to sum i): a single one makes every step
                // wait for the previous fused multiply-add, which bounds devices that run a work-item's loop as
                // scalar code (PoCL on CPUs); on GPUs the extra sums are instruction-level parallelism for free.
                float sum0 = 0f, sum1 = 0f, sum2 = 0f, sum3 = 0f;
                if (o < O) {
                    int k = lane;
                    for (; k + 3 * lanes < K; k += 4 * lanes) {
                        sum0 += DecodeTables.bf16(w, wBase + k, tables) * in.get(xBase + k);
                        sum1 += DecodeTables.bf16(w, wBase + k + lanes, tables) * in.get(xBase + k + lanes);
                        sum2 += DecodeTables.bf16(w, wBase + k + 2 * lanes, tables) * in.get(xBase + k + 2 * lanes);
                        sum3 += DecodeTables.bf16(w, wBase + k + 3 * lanes, tables) * in.get(xBase + k + 3 * lanes);
                    }
                    for (; k < K; k += lanes) sum0 += DecodeTables.bf16(w, wBase + k, tables) * in.get(xBase + k);
                }
                partial[lid] = (sum0 + sum1) + (sum2 + sum3);
                ctx.localBarrier();
                for (int stride = lanes / 2; stride > 0; stride >>= 1) {
                    if (lane < stride) partial[lid] += partial[lid + stride];
                    ctx.localBarrier();
                }
                if (lane == 0 && o < O) {
                    float v = partial[lid];
                    if ((flags & Params.HAS_BIAS) != 0) v += bias.get(o);
                    if ((flags & Params.ACCUMULATE) != 0) v += out.get(t * O + o);
                    out.set(t * O + o, v);
                }
                ctx.localBarrier();
            }
        }
    }

    /** Threads per output row for a K-long dot product: enough to share the row, at most 32, at least 4. */
    public static int lanes(int K) {
        return Math.max(4, Math.min(32, Integer.highestOneBit(Math.max(1, K / 8))));
    }
}
