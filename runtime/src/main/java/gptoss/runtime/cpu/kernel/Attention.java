package gptoss.runtime.cpu.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static gptoss.model.math.IeeeExp.exp;
import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * Attention with sinks (spec §2.2.4) for a tile of query rows (consecutive positions of one sequence) and the
 * query heads that share one KV head (GQA), flash-style: the keys are visited in tiles of {@link #KEY_TILE}
 * absolute positions, each tile's scores become weights through an online softmax (a running maximum and sum per
 * query head) and are mixed into the output at once, so each key and value tile read from the cache serves every
 * row and head of the query tile.
 *
 * <h2>One arithmetic per query row</h2>
 * A row gives the same bits whatever tile of rows it is computed in, so a prompt processed in chunks of any size
 * equals token-by-token decoding. For query head h of the row at position p, with visible keys j in [lo, p]
 * (lo = p − window + 1 on sliding-window layers, else 0):
 * <pre>
 *   m = sink[h];  l[0..L) = 0;  o[0..D) = 0
 *   for each key tile [b, b + KEY_TILE) meeting [lo, p] (b a multiple of KEY_TILE), in increasing b:
 *     s_j = scale · (q·k_j as one fma per d in increasing d), −∞ outside [lo, p]
 *     m' = max(m, max_j s_j);  if m' ≠ m: c = exp(m − m'), l ·= c, o ·= c;  m = m'
 *     p_j = exp(s_j − m);  l[j mod L] += p_j  (lane vectors of the tile in order)
 *     o += p_j · v_j  (one fma per element, visible j in increasing order)
 *   out = o / (Lanes.sum(l) + exp(sink[h] − m))
 * </pre>
 * Folding the sink into the starting maximum keeps every exp argument ≤ 0. {@link #exp} is built from IEEE adds,
 * multiplies and conversions, so it gives the same bits in the interpreter and every JIT tier (the Vector API's
 * lanewise EXP does not). The vector kernel and {@link #attendPlain} follow the order above exactly.
 */
public final class Attention {
    /** Keys per tile: four vectors, scored together from registers. Cache rings are multiples of it. */
    public static final int KEY_TILE = 4 * L;
    /** A window that never masks anything (full-attention layers). */
    public static final int FULL = Integer.MAX_VALUE;

    private Attention() {
    }

    /** Scratch floats {@link #attend} needs for {@code rows} query rows of {@code heads} heads of {@code headDim}. */
    public static int scratchSize(int rows, int heads, int headDim) {
        return rows * heads * (headDim + L + 1) + 4 * KEY_TILE;
    }

    /** The first position a query at {@code position} sees. */
    private static int firstVisible(int position, int window) {
        return window == FULL ? 0 : Math.max(0, position - window + 1);
    }

    /**
     * For rows r < {@code rows} (position {@code position + r}) and query heads h < {@code heads}:
     * {@code out[r][h] = Σ_j softmax_j(q[r][h]·k_j·scale ∪ sink[h]) · v_j} over the visible positions j.
     *
     * @param q        head h of row r at {@code q[qOffset + r·qStride + h·headDim]}
     * @param keys     keys of this KV head in tiles of {@link #KEY_TILE} slots, each tile transposed: dimension d of
     *                 the key in slot s at {@code keys[keysOffset + tileKeys(s, d, headDim)]}; position j is in slot j,
     *                 or j mod ring when {@code ring > 0} (a multiple of {@link #KEY_TILE}); every slot of a tile
     *                 holding a visible position holds finite numbers
     * @param values   dimension d of the value in slot s at {@code values[valuesOffset + s·valueStride + d]}
     * @param window   keys visible to a query, itself included ({@link #FULL}: all earlier positions)
     * @param sinks    sink logit of head h at {@code sinks[sinkOffset + h]}
     * @param scratch  at least {@link #scratchSize} floats
     * @param out      head h of row r written to {@code out[outOffset + r·outStride + h·headDim]}
     */
    public static void attend(float[] q, int qOffset, int qStride, int rows, int position, int heads, int headDim,
                              float[] keys, int keysOffset, int ring,
                              float[] values, int valuesOffset, int valueStride, int window,
                              float[] sinks, int sinkOffset, float scale, float[] scratch,
                              float[] out, int outOffset, int outStride) {
        if (ring % KEY_TILE != 0) throw new IllegalArgumentException("the ring must be a multiple of " + KEY_TILE);
        if (!Lanes.FAST || headDim % L != 0) {
            attendPlain(q, qOffset, qStride, rows, position, heads, headDim, keys, keysOffset, ring,
                    values, valuesOffset, valueStride, window, sinks, sinkOffset, scale, scratch, out, outOffset, outStride);
            return;
        }
        int n = rows * heads, lAt = n * headDim, mAt = lAt + n * L, sAt = mAt + n;
        java.util.Arrays.fill(scratch, 0, mAt, 0f);
        for (int i = 0; i < n; i++) scratch[mAt + i] = sinks[sinkOffset + i % heads];
        int last = position + rows - 1;
        for (int b = tileOf(firstVisible(position, window)); b <= last; b += KEY_TILE) {
            int slot = ring > 0 ? b % ring : b, k = keysOffset + slot * headDim;
            for (int r = 0; r < rows; r++) {
                int p = position + r, lo = firstVisible(p, window);
                if (b > p || b + KEY_TILE <= lo) continue;
                int from = Math.max(lo, b) - b, to = Math.min(p + 1, b + KEY_TILE) - b; // visible lanes [from, to)
                int qr = qOffset + r * qStride, state = r * heads;
                int h = 0;
                for (; h + 4 <= heads; h += 4) {
                    scores4(q, qr + h * headDim, headDim, keys, k, scale, scratch, sAt);
                    for (int i = 0; i < 4; i++) softmaxStep(scratch, sAt + i * KEY_TILE, from, to, state + h + i, n, headDim);
                    mix4(scratch, sAt, from, to, values, valuesOffset + slot * valueStride, valueStride, scratch, (state + h) * headDim, headDim);
                }
                for (; h < heads; h++) {
                    scores1(q, qr + h * headDim, headDim, keys, k, scale, scratch, sAt);
                    softmaxStep(scratch, sAt, from, to, state + h, n, headDim);
                    mix1(scratch, sAt, from, to, values, valuesOffset + slot * valueStride, valueStride, scratch, (state + h) * headDim, headDim);
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                int i = r * heads + h;
                float denominator = foldLanes(scratch, lAt + i * L) + exp(sinks[sinkOffset + h] - scratch[mAt + i]);
                int o = outOffset + r * outStride + h * headDim;
                for (int d = 0; d < headDim; d += L) FloatVector.fromArray(F, scratch, i * headDim + d).div(denominator).intoArray(out, o + d);
            }
        }
    }

    /** {@link Lanes#sum} of the L floats at {@code a[at..]}, folded in place (no vector crosses a call). */
    private static float foldLanes(float[] a, int at) {
        for (int w = L / 2; w >= 1; w /= 2) {
            for (int j = 0; j < w; j++) a[at + j] += a[at + j + w];
        }
        return a[at];
    }

    private static int tileOf(int position) {
        return position / KEY_TILE * KEY_TILE;
    }

    /** Where dimension d of the key in slot s lies in a tiled key array: tile by tile, each [d][slot in tile]. */
    public static int tileKeys(int slot, int d, int headDim) {
        int lane = slot % KEY_TILE;
        return (slot - lane) * headDim + d * KEY_TILE + lane;
    }

    /** Scores of 4 heads (q rows headDim apart) for the 4 key vectors of a tile, into s[h·KEY_TILE + lane]. */
    private static void scores4(float[] q, int qh, int headDim, float[] keys, int k, float scale, float[] s, int sAt) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int d = 0; d < headDim; d++, k += KEY_TILE) {
            FloatVector k0 = FloatVector.fromArray(F, keys, k), k1 = FloatVector.fromArray(F, keys, k + L);
            FloatVector k2 = FloatVector.fromArray(F, keys, k + 2 * L), k3 = FloatVector.fromArray(F, keys, k + 3 * L);
            FloatVector q0 = FloatVector.broadcast(F, q[qh + d]);
            a00 = k0.fma(q0, a00); a01 = k1.fma(q0, a01); a02 = k2.fma(q0, a02); a03 = k3.fma(q0, a03);
            FloatVector q1 = FloatVector.broadcast(F, q[qh + headDim + d]);
            a10 = k0.fma(q1, a10); a11 = k1.fma(q1, a11); a12 = k2.fma(q1, a12); a13 = k3.fma(q1, a13);
            FloatVector q2 = FloatVector.broadcast(F, q[qh + 2 * headDim + d]);
            a20 = k0.fma(q2, a20); a21 = k1.fma(q2, a21); a22 = k2.fma(q2, a22); a23 = k3.fma(q2, a23);
            FloatVector q3 = FloatVector.broadcast(F, q[qh + 3 * headDim + d]);
            a30 = k0.fma(q3, a30); a31 = k1.fma(q3, a31); a32 = k2.fma(q3, a32); a33 = k3.fma(q3, a33);
        }
        a00.mul(scale).intoArray(s, sAt); a01.mul(scale).intoArray(s, sAt + L);
        a02.mul(scale).intoArray(s, sAt + 2 * L); a03.mul(scale).intoArray(s, sAt + 3 * L);
        a10.mul(scale).intoArray(s, sAt + KEY_TILE); a11.mul(scale).intoArray(s, sAt + KEY_TILE + L);
        a12.mul(scale).intoArray(s, sAt + KEY_TILE + 2 * L); a13.mul(scale).intoArray(s, sAt + KEY_TILE + 3 * L);
        a20.mul(scale).intoArray(s, sAt + 2 * KEY_TILE); a21.mul(scale).intoArray(s, sAt + 2 * KEY_TILE + L);
        a22.mul(scale).intoArray(s, sAt + 2 * KEY_TILE + 2 * L); a23.mul(scale).intoArray(s, sAt + 2 * KEY_TILE + 3 * L);
        a30.mul(scale).intoArray(s, sAt + 3 * KEY_TILE); a31.mul(scale).intoArray(s, sAt + 3 * KEY_TILE + L);
        a32.mul(scale).intoArray(s, sAt + 3 * KEY_TILE + 2 * L); a33.mul(scale).intoArray(s, sAt + 3 * KEY_TILE + 3 * L);
    }

    private static void scores1(float[] q, int qh, int headDim, float[] keys, int k, float scale, float[] s, int sAt) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < headDim; d++, k += KEY_TILE) {
            FloatVector qd = FloatVector.broadcast(F, q[qh + d]);
            a0 = FloatVector.fromArray(F, keys, k).fma(qd, a0);
            a1 = FloatVector.fromArray(F, keys, k + L).fma(qd, a1);
            a2 = FloatVector.fromArray(F, keys, k + 2 * L).fma(qd, a2);
            a3 = FloatVector.fromArray(F, keys, k + 3 * L).fma(qd, a3);
        }
        a0.mul(scale).intoArray(s, sAt); a1.mul(scale).intoArray(s, sAt + L);
        a2.mul(scale).intoArray(s, sAt + 2 * L); a3.mul(scale).intoArray(s, sAt + 3 * L);
    }

    /**
     * The online-softmax step of query head {@code i} (of {@code n}) for one key tile: scores at {@code w[sAt..]}
     * (lanes outside [from, to) masked) become weights in place; its running max, lane sums and output rescale.
     * Vectors stay inside this method (with one exp call site), so nothing is boxed if the JIT does not inline it.
     */
    private static void softmaxStep(float[] w, int sAt, int from, int to, int i, int n, int headDim) {
        int lAt = n * headDim + i * L, mAt = n * headDim + n * L + i;
        for (int j = 0; j < from; j++) w[sAt + j] = Float.NEGATIVE_INFINITY;
        for (int j = to; j < KEY_TILE; j++) w[sAt + j] = Float.NEGATIVE_INFINITY;
        FloatVector top = FloatVector.fromArray(F, w, sAt);
        for (int j = L; j < KEY_TILE; j += L) top = top.max(FloatVector.fromArray(F, w, sAt + j));
        float m = w[mAt], max = Math.max(m, top.reduceLanes(VectorOperators.MAX)); // max is exact in any order
        FloatVector l = FloatVector.fromArray(F, w, lAt);
        if (max != m) {
            float c = exp(m - max);
            l = l.mul(c);
            for (int d = 0; d < headDim; d += L) FloatVector.fromArray(F, w, i * headDim + d).mul(c).intoArray(w, i * headDim + d);
            w[mAt] = max;
        }
        for (int j = 0; j < KEY_TILE; j += L) {
            FloatVector p = exp(FloatVector.fromArray(F, w, sAt + j).sub(max));
            p.intoArray(w, sAt + j);
            l = l.add(p);
        }
        l.intoArray(w, lAt);
    }

    /** o[h] += Σ_{from ≤ j < to} w[h][j] · v_j for 4 heads (outputs headDim apart at {@code o[oAt..]}). */
    private static void mix4(float[] w, int wAt, int from, int to, float[] values, int v, int valueStride, float[] o, int oAt, int headDim) {
        int d = 0;
        for (; d + 4 * L <= headDim; d += 4 * L) mix4x4(w, wAt, from, to, values, v + d, valueStride, o, oAt + d, headDim);
        for (; d < headDim; d += L) {
            FloatVector a0 = FloatVector.fromArray(F, o, oAt + d), a1 = FloatVector.fromArray(F, o, oAt + headDim + d);
            FloatVector a2 = FloatVector.fromArray(F, o, oAt + 2 * headDim + d), a3 = FloatVector.fromArray(F, o, oAt + 3 * headDim + d);
            for (int j = from, vj = v + d + from * valueStride; j < to; j++, vj += valueStride) {
                FloatVector value = FloatVector.fromArray(F, values, vj);
                a0 = value.fma(FloatVector.broadcast(F, w[wAt + j]), a0);
                a1 = value.fma(FloatVector.broadcast(F, w[wAt + KEY_TILE + j]), a1);
                a2 = value.fma(FloatVector.broadcast(F, w[wAt + 2 * KEY_TILE + j]), a2);
                a3 = value.fma(FloatVector.broadcast(F, w[wAt + 3 * KEY_TILE + j]), a3);
            }
            a0.intoArray(o, oAt + d);
            a1.intoArray(o, oAt + headDim + d);
            a2.intoArray(o, oAt + 2 * headDim + d);
            a3.intoArray(o, oAt + 3 * headDim + d);
        }
    }

    /** 4 heads × 4 value vectors: 16 accumulators, each value load used by 4 heads. */
    private static void mix4x4(float[] w, int wAt, int from, int to, float[] values, int v, int valueStride, float[] o, int oAt, int headDim) {
        int o1 = oAt + headDim, o2 = o1 + headDim, o3 = o2 + headDim;
        FloatVector a0 = FloatVector.fromArray(F, o, oAt), a1 = FloatVector.fromArray(F, o, oAt + L);
        FloatVector a2 = FloatVector.fromArray(F, o, oAt + 2 * L), a3 = FloatVector.fromArray(F, o, oAt + 3 * L);
        FloatVector b0 = FloatVector.fromArray(F, o, o1), b1 = FloatVector.fromArray(F, o, o1 + L);
        FloatVector b2 = FloatVector.fromArray(F, o, o1 + 2 * L), b3 = FloatVector.fromArray(F, o, o1 + 3 * L);
        FloatVector c0 = FloatVector.fromArray(F, o, o2), c1 = FloatVector.fromArray(F, o, o2 + L);
        FloatVector c2 = FloatVector.fromArray(F, o, o2 + 2 * L), c3 = FloatVector.fromArray(F, o, o2 + 3 * L);
        FloatVector e0 = FloatVector.fromArray(F, o, o3), e1 = FloatVector.fromArray(F, o, o3 + L);
        FloatVector e2 = FloatVector.fromArray(F, o, o3 + 2 * L), e3 = FloatVector.fromArray(F, o, o3 + 3 * L);
        for (int j = from, vj = v + from * valueStride; j < to; j++, vj += valueStride) {
            FloatVector v0 = FloatVector.fromArray(F, values, vj), v1 = FloatVector.fromArray(F, values, vj + L);
            FloatVector v2 = FloatVector.fromArray(F, values, vj + 2 * L), v3 = FloatVector.fromArray(F, values, vj + 3 * L);
            FloatVector wa = FloatVector.broadcast(F, w[wAt + j]);
            a0 = v0.fma(wa, a0); a1 = v1.fma(wa, a1); a2 = v2.fma(wa, a2); a3 = v3.fma(wa, a3);
            FloatVector wb = FloatVector.broadcast(F, w[wAt + KEY_TILE + j]);
            b0 = v0.fma(wb, b0); b1 = v1.fma(wb, b1); b2 = v2.fma(wb, b2); b3 = v3.fma(wb, b3);
            FloatVector wc = FloatVector.broadcast(F, w[wAt + 2 * KEY_TILE + j]);
            c0 = v0.fma(wc, c0); c1 = v1.fma(wc, c1); c2 = v2.fma(wc, c2); c3 = v3.fma(wc, c3);
            FloatVector we = FloatVector.broadcast(F, w[wAt + 3 * KEY_TILE + j]);
            e0 = v0.fma(we, e0); e1 = v1.fma(we, e1); e2 = v2.fma(we, e2); e3 = v3.fma(we, e3);
        }
        a0.intoArray(o, oAt); a1.intoArray(o, oAt + L); a2.intoArray(o, oAt + 2 * L); a3.intoArray(o, oAt + 3 * L);
        b0.intoArray(o, o1); b1.intoArray(o, o1 + L); b2.intoArray(o, o1 + 2 * L); b3.intoArray(o, o1 + 3 * L);
        c0.intoArray(o, o2); c1.intoArray(o, o2 + L); c2.intoArray(o, o2 + 2 * L); c3.intoArray(o, o2 + 3 * L);
        e0.intoArray(o, o3); e1.intoArray(o, o3 + L); e2.intoArray(o, o3 + 2 * L); e3.intoArray(o, o3 + 3 * L);
    }

    private static void mix1(float[] w, int wAt, int from, int to, float[] values, int v, int valueStride, float[] o, int oAt, int headDim) {
        for (int d = 0; d < headDim; d += L) {
            FloatVector a = FloatVector.fromArray(F, o, oAt + d);
            for (int j = from, vj = v + d + from * valueStride; j < to; j++, vj += valueStride) {
                a = FloatVector.fromArray(F, values, vj).fma(FloatVector.broadcast(F, w[wAt + j]), a);
            }
            a.intoArray(o, oAt + d);
        }
    }

    /**
     * {@link #attend} one element at a time, in the same order (the fallback without fast vectors, and what tests
     * compare the vector kernel with bit for bit).
     */
    public static void attendPlain(float[] q, int qOffset, int qStride, int rows, int position, int heads, int headDim,
                                   float[] keys, int keysOffset, int ring,
                                   float[] values, int valuesOffset, int valueStride, int window,
                                   float[] sinks, int sinkOffset, float scale, float[] scratch,
                                   float[] out, int outOffset, int outStride) {
        int sAt = 0, lAt = KEY_TILE, oAt = KEY_TILE + L; // in scratch: tile scores, lane sums, output
        for (int r = 0; r < rows; r++) {
            int p = position + r, lo = firstVisible(p, window);
            for (int h = 0; h < heads; h++) {
                int qh = qOffset + r * qStride + h * headDim;
                float m = sinks[sinkOffset + h];
                java.util.Arrays.fill(scratch, lAt, lAt + L, 0f);
                java.util.Arrays.fill(scratch, oAt, oAt + headDim, 0f);
                for (int b = tileOf(lo); b <= p; b += KEY_TILE) {
                    int slot = ring > 0 ? b % ring : b;
                    float max = m;
                    for (int j = 0; j < KEY_TILE; j++) {
                        float a = 0f;
                        for (int d = 0; d < headDim; d++) a = Math.fma(keys[keysOffset + tileKeys(slot + j, d, headDim)], q[qh + d], a);
                        scratch[sAt + j] = b + j < lo || b + j > p ? Float.NEGATIVE_INFINITY : a * scale;
                        max = Math.max(max, scratch[sAt + j]);
                    }
                    if (max != m) {
                        float c = exp(m - max);
                        for (int i = 0; i < L; i++) scratch[lAt + i] *= c;
                        for (int d = 0; d < headDim; d++) scratch[oAt + d] *= c;
                        m = max;
                    }
                    for (int j = 0; j < KEY_TILE; j++) {
                        scratch[sAt + j] = exp(scratch[sAt + j] - m);
                        scratch[lAt + j % L] += scratch[sAt + j];
                    }
                    for (int j = Math.max(lo, b) - b; j < Math.min(p + 1, b + KEY_TILE) - b; j++) {
                        int vj = valuesOffset + (slot + j) * valueStride;
                        for (int d = 0; d < headDim; d++) scratch[oAt + d] = Math.fma(values[vj + d], scratch[sAt + j], scratch[oAt + d]);
                    }
                }
                float denominator = foldLanes(scratch, lAt) + exp(sinks[sinkOffset + h] - m);
                int oh = outOffset + r * outStride + h * headDim;
                for (int d = 0; d < headDim; d++) out[oh + d] = scratch[oAt + d] / denominator;
            }
        }
    }

    /**
     * The spec's two-pass softmax for one query row over slots [0, count), one element at a time in the order of
     * spec §2.6 (an independent reference for tests and benchmarks): dimension d of key and value j at
     * {@code keys[keysOffset + j·stride + d]} and {@code values[valuesOffset + j·stride + d]};
     * {@code scratch} holds at least {@code heads·count} floats.
     */
    public static void reference(float[] q, int qOffset, int heads, int headDim,
                                 float[] keys, int keysOffset, float[] values, int valuesOffset, int stride, int count,
                                 float[] sinks, int sinkOffset, float scale, float[] scratch,
                                 float[] out, int outOffset) {
        for (int h = 0; h < heads; h++) {
            int qh = qOffset + h * headDim, base = h * count;
            float sink = sinks[sinkOffset + h];
            float max = sink;
            for (int j = 0; j < count; j++) {
                float s = 0f;
                for (int d = 0; d < headDim; d++) s += q[qh + d] * keys[keysOffset + j * stride + d];
                s *= scale;
                scratch[base + j] = s;
                if (s > max) max = s;
            }
            float denominator = (float) Math.exp(sink - max);
            for (int j = 0; j < count; j++) {
                float e = (float) Math.exp(scratch[base + j] - max);
                scratch[base + j] = e;
                denominator += e;
            }
            int oh = outOffset + h * headDim;
            for (int d = 0; d < headDim; d++) out[oh + d] = 0f;
            for (int j = 0; j < count; j++) {
                float weight = scratch[base + j] / denominator;
                int vj = valuesOffset + j * stride;
                for (int d = 0; d < headDim; d++) out[oh + d] += weight * values[vj + d];
            }
        }
    }
}
