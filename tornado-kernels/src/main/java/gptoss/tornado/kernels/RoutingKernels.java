package gptoss.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * The parts of a decode step that the engine does on the host when it orchestrates backends part by part, here on
 * the device so that a whole step stays there: the embedding lookup, the router decision (spec §2.3.3: top-k of
 * the router logits, ties to the lower expert id, softmax over the k), the grouping of (row, slot) pairs by
 * expert for the batched expert kernels, the weighted combine of the expert outputs in router order with the
 * residual add, and copies of the routing and residual rows into record arrays read back only for listeners.
 * Rows: {@code params[ROWS]}; slot s of row t is entry {@code t·k + s}.
 */
public final class RoutingKernels {
    /** Work-group size of the row-parallel kernels (a power of two). */
    public static final int LOCAL = 128;
    /** {@code params[RECORD]} bit: copy routing decisions to the record array. */
    public static final int RECORD_ROUTING = 1;
    /** {@code params[RECORD]} bit: copy residual rows to the record array. */
    public static final int RECORD_RESIDUALS = 2;

    private RoutingKernels() {
    }

    /** {@code x[t] = embedding[tokens[t]]} (BF16 table [V, H]); one work-group per row. */
    public static void embed(KernelContext ctx, IntArray tokens, ShortArray table, FloatArray x, FloatArray tables, IntArray params, int H) {
        int t = ctx.groupIdx;
        if (t < params.get(Params.ROWS)) {
            int base = tokens.get(t) * H;
            for (int i = ctx.localIdx; i < H; i += LOCAL) x.set(t * H + i, DecodeTables.bf16(table, base + i, tables));
        }
    }

    /**
     * The router decision of every row, by one work-item (k·E·rows steps: a few thousand): expert ids
     * {@code routes[t·k + s]} and {@code weights[t·k + s]} (the array holds 2·rowTiles·16·k floats, the second half scratch); then the slots grouped by expert, in row order: expert e's
     * slots are {@code routes[orderAt + routes[startsAt + e] ..]} up to {@code routes[startsAt + e + 1]}, with
     * {@code orderAt = rowTiles·16·k} and {@code startsAt = 2·orderAt} (one array: fewer kernel arguments). With {@code params[RECORD] & RECORD_ROUTING}, row t's k ids (as
     * floats), k weights and E logits go to {@code record[recordOffset + t·(2k+E) ..]}.
     */
    public static void route(KernelContext ctx, FloatArray logits, IntArray routes, FloatArray weights, FloatArray record, FloatArray tables,
                             IntArray params, int E, int k, int recordOffset, int rowTiles) {
        if (ctx.globalIdx == 0) {
            int orderAt = rowTiles * 16 * k;
            int startsAt = 2 * orderAt;
            int expAt = orderAt; // weights[expAt ..]: the unnormalised e^(logit - max) of each slot
            int rows = params.get(Params.ROWS);
            for (int t = 0; t < rows; t++) {
                for (int s = 0; s < k; s++) {
                    int best = -1;
                    float bestValue = 0f;
                    for (int e = 0; e < E; e++) {
                        float v = logits.get(t * E + e);
                        boolean taken = false;
                        for (int i = 0; i < s; i++) {
                            if (routes.get(t * k + i) == e) taken = true;
                        }
                        if (!taken && (best < 0 || v > bestValue)) {
                            best = e;
                            bestValue = v;
                        }
                    }
                    routes.set(t * k + s, best);
                }
                float max = logits.get(t * E + routes.get(t * k));
                float sum = 0f;
                for (int s = 0; s < k; s++) {
                    float w = exp(logits.get(t * E + routes.get(t * k + s)) - max, tables);
                    weights.set(expAt + t * k + s, w);
                    sum += w;
                }
                // w / sum correctly rounded, as on the host: relaxed math lets OpenCL divide within 2.5 ulp, so the
                // quotient through the reciprocal gets one Newton step on its exact fma residual. The first quotient
                // goes through memory, so that the backend fuses the step's product, not the quotient's, into the fma.
                float inv = 1f / sum;
                for (int s = 0; s < k; s++) weights.set(t * k + s, weights.get(expAt + t * k + s) * inv);
                for (int s = 0; s < k; s++) {
                    float residual = weights.get(t * k + s) * -sum + weights.get(expAt + t * k + s);
                    weights.set(t * k + s, residual * inv + weights.get(t * k + s));
                }
            }
            int at = 0;
            for (int e = 0; e < E; e++) {
                routes.set(startsAt + e, at);
                for (int slot = 0; slot < rows * k; slot++) {
                    if (routes.get(slot) == e) {
                        routes.set(orderAt + at, slot);
                        at++;
                    }
                }
            }
            routes.set(startsAt + E, at);
            if ((params.get(Params.RECORD) & RECORD_ROUTING) != 0) {
                int stride = 2 * k + E;
                for (int t = 0; t < rows; t++) {
                    int base = recordOffset + t * stride;
                    for (int s = 0; s < k; s++) {
                        record.set(base + s, (float) routes.get(t * k + s));
                        record.set(base + k + s, weights.get(t * k + s));
                    }
                    for (int e = 0; e < E; e++) record.set(base + 2 * k + e, logits.get(t * E + e));
                }
            }
        }
    }

    /**
     * {@code e^d} for {@code d ≤ 0}, the same operations as the host's {@link gptoss.runtime.ops.TopKRouting#exp}
     * (fused multiply-adds where it has them), so both paths get the same routing weights bit for bit; OpenCL's exp
     * under TornadoVM's {@code -cl-fast-relaxed-math} differed from the host's by up to 20 ulp. 2^n comes from the
     * E8M0 table (PoCL has no {@code Float.intBitsToFloat}).
     */
    static float exp(float d, FloatArray tables) {
        // TornadoVM's OpenCL backend turns every a·b + c into fma(a, b, c) (its OCLFMAPhase; Math.fma itself is not
        // an intrinsic there): each line below is one fused multiply-add, as on the host.
        float n = TornadoMath.floor(d * 1.44269504f + 0.5f);
        if (n < -126f) return 0f;
        float r = n * -0.693145751953125f + d;
        r = n * -1.42860677e-6f + r;
        float p = r * (1f / 5040f) + 1f / 720f;
        p = p * r + 1f / 120f;
        p = p * r + 1f / 24f;
        p = p * r + 1f / 6f;
        p = p * r + 0.5f;
        p = p * r + 1f;
        p = p * r + 1f;
        return p * tables.get(DecodeTables.E8M0 + (int) n + 127);
    }

    /**
     * {@code x[t] += Σ_s weights[t·k+s] · out[t·k+s]}, summed in router order with fused multiply-adds (the OpenCL
     * backend fuses a·b + c), as the engine does; one work-group per row.
     */
    public static void combine(KernelContext ctx, FloatArray out, FloatArray weights, FloatArray x, IntArray params, int H, int k) {
        int t = ctx.groupIdx;
        if (t < params.get(Params.ROWS)) {
            for (int i = ctx.localIdx; i < H; i += LOCAL) {
                float sum = 0f;
                for (int s = 0; s < k; s++) sum += weights.get(t * k + s) * out.get((t * k + s) * H + i); // one fma each
                x.set(t * H + i, x.get(t * H + i) + sum);
            }
        }
    }

    /**
     * {@code out[t] = x[params[FIRST_ROW] + t]} for {@code t < params[ROWS]}: the rows the head runs on (all, or the
     * last one when only its logits are wanted); one work-group per row.
     */
    public static void pickRows(KernelContext ctx, FloatArray x, FloatArray out, IntArray params, int H) {
        int t = ctx.groupIdx;
        if (t < params.get(Params.ROWS)) {
            int from = (params.get(Params.FIRST_ROW) + t) * H;
            for (int i = ctx.localIdx; i < H; i += LOCAL) out.set(t * H + i, x.get(from + i));
        }
    }

    /** With {@code params[RECORD] & RECORD_RESIDUALS}: {@code record[recordOffset + t·H ..] = x[t]}; one work-group per row. */
    public static void snapshot(KernelContext ctx, FloatArray x, FloatArray record, IntArray params, int H, int recordOffset) {
        int t = ctx.groupIdx;
        if (t < params.get(Params.ROWS) && (params.get(Params.RECORD) & RECORD_RESIDUALS) != 0) {
            for (int i = ctx.localIdx; i < H; i += LOCAL) record.set(recordOffset + t * H + i, x.get(t * H + i));
        }
    }
}
