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
     * {@code routes[t·k + s]} and {@code weights[t·k + s]}; then the slots grouped by expert, in row order: expert e's
     * slots are {@code routes[orderAt + routes[startsAt + e] ..]} up to {@code routes[startsAt + e + 1]}, with
     * {@code orderAt = rowTiles·16·k} and {@code startsAt = 2·orderAt} (one array: fewer kernel arguments). With {@code params[RECORD] & RECORD_ROUTING}, row t's k ids (as
     * floats), k weights and E logits go to {@code record[recordOffset + t·(2k+E) ..]}.
     */
    public static void route(KernelContext ctx, FloatArray logits, IntArray routes, FloatArray weights, FloatArray record, IntArray params,
                             int E, int k, int recordOffset, int rowTiles) {
        if (ctx.globalIdx == 0) {
            int orderAt = rowTiles * 16 * k;
            int startsAt = 2 * orderAt;
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
                    float w = TornadoMath.exp(logits.get(t * E + routes.get(t * k + s)) - max);
                    weights.set(t * k + s, w);
                    sum += w;
                }
                for (int s = 0; s < k; s++) weights.set(t * k + s, weights.get(t * k + s) / sum);
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

    /** {@code x[t] += Σ_s weights[t·k+s] · out[t·k+s]}, summed in router order (as the engine does); one work-group per row. */
    public static void combine(KernelContext ctx, FloatArray out, FloatArray weights, FloatArray x, IntArray params, int H, int k) {
        int t = ctx.groupIdx;
        if (t < params.get(Params.ROWS)) {
            for (int i = ctx.localIdx; i < H; i += LOCAL) {
                float sum = 0f;
                for (int s = 0; s < k; s++) sum += weights.get(t * k + s) * out.get((t * k + s) * H + i);
                x.set(t * H + i, x.get(t * H + i) + sum);
            }
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
