package gptoss.runtime.cpu.kernel;

import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * Weights × several token rows (a prefill chunk, a batched decode step, the tokens routed to one expert):
 * {@code C[o, t] = Σ_p W[o, p] · X[t, p]} over the positions p of the weights' {@link WeightMatrix#decodeLayout()},
 * in the summation order of the package documentation, so every output has the bits of {@link WeightMatrix#dot}
 * whatever the number of tokens, the tiling or the thread.
 * <ul>
 *   <li>A thread claims a unit of {@link #unitRows} output rows. Per depth block of {@link #depth} positions it
 *       decodes the unit's rows once to exact fp32 ({@link WeightMatrix#decode(int, int, int, int, float[], int, int)})
 *       into a panel that stays in L1 (32 rows × 256 floats = 32 KiB), and applies it to every token.</li>
 *   <li>The micro-kernel is a dot product blocked in registers: {@link #R} weight rows × {@link #T} token rows
 *       of vector accumulators (4 × 6 = 24 of the 32 AVX-512 registers, plus 4 weight vectors and one token
 *       vector). Vectors run along the depth, so lane j of an accumulator sums the positions p ≡ j (mod L) in
 *       increasing p: per L positions it loads 4 weight vectors (panel, L1) and 6 token vectors (the token rows
 *       read in place, 6 × 1 KiB per depth block, L1) for 24 FMAs, 0.42 loads per FMA where the core sustains
 *       one (two loads and two FMAs per cycle).</li>
 *   <li>Between depth blocks the accumulators go through memory unchanged (the unit's partial vectors, rows ×
 *       tokens × L floats, L2); after the last block each is folded by {@link Lanes#sum(FloatVector)}.</li>
 * </ul>
 * Token rows are read where they lie ({@link #stride}: whole vectors, zero beyond the layout's length); no packing,
 * no padding of the token count (the remainder of a tile of 6 runs through 4-, 2- and 1-token kernels).
 */
public final class Gemm {
    /** Weight rows of a micro-kernel. */
    public static final int R = 4;
    /** Token rows of the widest micro-kernel. */
    public static final int T = 6;
    /**
     * Output rows a thread claims at a time with many tokens: their panel (32 × {@link #depth} floats) stays in L1
     * with the token tile. Even, so SwiGLU gate/linear pairs never straddle two units.
     */
    private static final int UNIT_ROWS = Integer.getInteger("gptoss.gemm.unitRows", 32);
    /**
     * Output rows a thread claims at a time with a few tokens (below {@link #FEW_TOKENS}): each unit's rows are
     * read from memory side by side, 8 streams as in the matrix-vector kernels.
     */
    private static final int FEW_UNIT_ROWS = Integer.getInteger("gptoss.gemm.fewUnitRows", 8);
    private static final int FEW_TOKENS = 16;
    /** Positions of a depth block (a multiple of {@link WeightMatrix#DECODE_ALIGN}). */
    private static final int DEPTH = Integer.getInteger("gptoss.gemm.depth", 256);

    private Gemm() {
    }

    /** Receives finished outputs of a unit: {@code c[cOffset + r·cStride + t]} is row {@code row + r}, token t. */
    @FunctionalInterface
    public interface Epilogue {
        void write(int row, int count, int tokens, float[] c, int cOffset, int cStride);
    }

    /** Output rows per unit of work for a product of this many tokens (a multiple of {@link #R}, even). */
    public static int unitRows(int tokens) {
        return tokens < FEW_TOKENS ? FEW_UNIT_ROWS : UNIT_ROWS;
    }

    /**
     * Floats from one token row to the next that {@link #rows} reads: the weights' decoded length rounded up to
     * whole vectors; the caller leaves zeros (or any finite values) after the decoded length.
     */
    public static int stride(WeightMatrix m) {
        return (m.decodedLength() + L - 1) / L * L;
    }

    /** Depth block for rows of {@code positions}: {@link #DEPTH}, or all of them rounded up to the alignment. */
    public static int depth(int positions) {
        int align = WeightMatrix.DECODE_ALIGN;
        return Math.min(Math.max(align, DEPTH / align * align), (positions + align - 1) / align * align);
    }

    /** Work memory of one thread (grows, never shrinks). */
    public static final class Scratch {
        private float[] panel = new float[0], partial = new float[0], result = new float[0];

        float[] panel(int n) {
            if (panel.length < n) panel = new float[n];
            return panel;
        }

        float[] partial(int n) {
            if (partial.length < n) partial = new float[n];
            return partial;
        }

        float[] result(int n) {
            if (result.length < n) result = new float[n];
            return result;
        }
    }

    /**
     * Rows {@code [row, row + count)} of {@code m} times token rows {@code x[xOffset + t·xStride ..]} for t < tokens
     * (arranged in {@code m.decodeLayout()}, {@code xStride ≥ stride(m)}): the finished [count × tokens] block goes
     * to {@code epilogue}.
     */
    public static void rows(WeightMatrix m, int row, int count, float[] x, int xOffset, int xStride, int tokens,
                            Scratch scratch, Epilogue epilogue) {
        int P = m.decodedLength(), kcMax = depth(P), rowsPadded = (count + R - 1) / R * R;
        if (xStride < stride(m)) throw new IllegalArgumentException("token stride " + xStride + " < " + stride(m));
        float[] w = scratch.panel(rowsPadded * kcMax), acc = scratch.partial(rowsPadded * tokens * L);
        int rowStride = tokens * L;  // acc vector of row r, token t at r·rowStride + t·L
        for (int k0 = 0; k0 < P; k0 += kcMax) {
            int kc = Math.min(kcMax, P - k0), kv = (kc + L - 1) / L * L;
            m.decode(row, count, k0, kc, w, 0, kcMax);
            if (kv > kc) for (int r = 0; r < count; r++) Arrays.fill(w, r * kcMax + kc, r * kcMax + kv, 0f);
            if (count < rowsPadded) Arrays.fill(w, count * kcMax, rowsPadded * kcMax, 0f);
            boolean first = k0 == 0;
            int xo = xOffset + k0;
            int t = 0;
            for (; t + 6 <= tokens; t += 6) {
                for (int r = 0; r < rowsPadded; r += R) {
                    kernel4x6(w, r * kcMax, kcMax, x, xo + t * xStride, xStride, kv, acc, r * rowStride + t * L, rowStride, first);
                }
            }
            if (tokens - t >= 4) {
                for (int r = 0; r < rowsPadded; r += R) {
                    kernel4x4(w, r * kcMax, kcMax, x, xo + t * xStride, xStride, kv, acc, r * rowStride + t * L, rowStride, first);
                }
                t += 4;
            }
            if (tokens - t >= 2) {
                for (int r = 0; r < rowsPadded; r += R) {
                    kernel4x2(w, r * kcMax, kcMax, x, xo + t * xStride, xStride, kv, acc, r * rowStride + t * L, rowStride, first);
                }
                t += 2;
            }
            if (tokens - t == 1) {
                for (int r = 0; r < rowsPadded; r += R) {
                    kernel4x1(w, r * kcMax, kcMax, x, xo + t * xStride, kv, acc, r * rowStride + t * L, rowStride, first);
                }
            }
        }
        float[] c = scratch.result(count * tokens);
        for (int i = 0; i < count * tokens; i++) c[i] = Lanes.sum(FloatVector.fromArray(F, acc, i * L));
        epilogue.write(row, count, tokens, c, 0, tokens);
    }

    // The micro-kernels: weight row r at w[wo + r·ws + p], token j at x[xo + j·xs + p], accumulator (r, j) at
    // c[co + r·cs + j·L] (zero instead when first). Written out by hand: the JIT keeps every accumulator in a
    // register only when each is a local variable.

    /** 4 weight rows × 6 token rows over kv positions (a multiple of L). */
    private static void kernel4x6(float[] w, int wo, int ws, float[] x, int xo, int xs, int kv, float[] c, int co, int cs, boolean first) {
        FloatVector a00, a01, a02, a03, a04, a05, a10, a11, a12, a13, a14, a15;
        FloatVector a20, a21, a22, a23, a24, a25, a30, a31, a32, a33, a34, a35;
        if (first) {
            a00 = a01 = a02 = a03 = a04 = a05 = a10 = a11 = a12 = a13 = a14 = a15 = FloatVector.zero(F);
            a20 = a21 = a22 = a23 = a24 = a25 = a30 = a31 = a32 = a33 = a34 = a35 = FloatVector.zero(F);
        } else {
            a00 = FloatVector.fromArray(F, c, co); a01 = FloatVector.fromArray(F, c, co + L); a02 = FloatVector.fromArray(F, c, co + 2 * L);
            a03 = FloatVector.fromArray(F, c, co + 3 * L); a04 = FloatVector.fromArray(F, c, co + 4 * L); a05 = FloatVector.fromArray(F, c, co + 5 * L);
            a10 = FloatVector.fromArray(F, c, co + cs); a11 = FloatVector.fromArray(F, c, co + cs + L); a12 = FloatVector.fromArray(F, c, co + cs + 2 * L);
            a13 = FloatVector.fromArray(F, c, co + cs + 3 * L); a14 = FloatVector.fromArray(F, c, co + cs + 4 * L); a15 = FloatVector.fromArray(F, c, co + cs + 5 * L);
            a20 = FloatVector.fromArray(F, c, co + 2 * cs); a21 = FloatVector.fromArray(F, c, co + 2 * cs + L); a22 = FloatVector.fromArray(F, c, co + 2 * cs + 2 * L);
            a23 = FloatVector.fromArray(F, c, co + 2 * cs + 3 * L); a24 = FloatVector.fromArray(F, c, co + 2 * cs + 4 * L); a25 = FloatVector.fromArray(F, c, co + 2 * cs + 5 * L);
            a30 = FloatVector.fromArray(F, c, co + 3 * cs); a31 = FloatVector.fromArray(F, c, co + 3 * cs + L); a32 = FloatVector.fromArray(F, c, co + 3 * cs + 2 * L);
            a33 = FloatVector.fromArray(F, c, co + 3 * cs + 3 * L); a34 = FloatVector.fromArray(F, c, co + 3 * cs + 4 * L); a35 = FloatVector.fromArray(F, c, co + 3 * cs + 5 * L);
        }
        for (int p = 0; p < kv; p += L) {
            FloatVector w0 = FloatVector.fromArray(F, w, wo + p), w1 = FloatVector.fromArray(F, w, wo + ws + p);
            FloatVector w2 = FloatVector.fromArray(F, w, wo + 2 * ws + p), w3 = FloatVector.fromArray(F, w, wo + 3 * ws + p);
            FloatVector v = FloatVector.fromArray(F, x, xo + p);
            a00 = w0.fma(v, a00); a10 = w1.fma(v, a10); a20 = w2.fma(v, a20); a30 = w3.fma(v, a30);
            v = FloatVector.fromArray(F, x, xo + xs + p);
            a01 = w0.fma(v, a01); a11 = w1.fma(v, a11); a21 = w2.fma(v, a21); a31 = w3.fma(v, a31);
            v = FloatVector.fromArray(F, x, xo + 2 * xs + p);
            a02 = w0.fma(v, a02); a12 = w1.fma(v, a12); a22 = w2.fma(v, a22); a32 = w3.fma(v, a32);
            v = FloatVector.fromArray(F, x, xo + 3 * xs + p);
            a03 = w0.fma(v, a03); a13 = w1.fma(v, a13); a23 = w2.fma(v, a23); a33 = w3.fma(v, a33);
            v = FloatVector.fromArray(F, x, xo + 4 * xs + p);
            a04 = w0.fma(v, a04); a14 = w1.fma(v, a14); a24 = w2.fma(v, a24); a34 = w3.fma(v, a34);
            v = FloatVector.fromArray(F, x, xo + 5 * xs + p);
            a05 = w0.fma(v, a05); a15 = w1.fma(v, a15); a25 = w2.fma(v, a25); a35 = w3.fma(v, a35);
        }
        a00.intoArray(c, co); a01.intoArray(c, co + L); a02.intoArray(c, co + 2 * L);
        a03.intoArray(c, co + 3 * L); a04.intoArray(c, co + 4 * L); a05.intoArray(c, co + 5 * L);
        a10.intoArray(c, co + cs); a11.intoArray(c, co + cs + L); a12.intoArray(c, co + cs + 2 * L);
        a13.intoArray(c, co + cs + 3 * L); a14.intoArray(c, co + cs + 4 * L); a15.intoArray(c, co + cs + 5 * L);
        a20.intoArray(c, co + 2 * cs); a21.intoArray(c, co + 2 * cs + L); a22.intoArray(c, co + 2 * cs + 2 * L);
        a23.intoArray(c, co + 2 * cs + 3 * L); a24.intoArray(c, co + 2 * cs + 4 * L); a25.intoArray(c, co + 2 * cs + 5 * L);
        a30.intoArray(c, co + 3 * cs); a31.intoArray(c, co + 3 * cs + L); a32.intoArray(c, co + 3 * cs + 2 * L);
        a33.intoArray(c, co + 3 * cs + 3 * L); a34.intoArray(c, co + 3 * cs + 4 * L); a35.intoArray(c, co + 3 * cs + 5 * L);
    }

    /** 4 weight rows × 4 token rows. */
    private static void kernel4x4(float[] w, int wo, int ws, float[] x, int xo, int xs, int kv, float[] c, int co, int cs, boolean first) {
        FloatVector a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        if (first) {
            a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = a20 = a21 = a22 = a23 = a30 = a31 = a32 = a33 = FloatVector.zero(F);
        } else {
            a00 = FloatVector.fromArray(F, c, co); a01 = FloatVector.fromArray(F, c, co + L);
            a02 = FloatVector.fromArray(F, c, co + 2 * L); a03 = FloatVector.fromArray(F, c, co + 3 * L);
            a10 = FloatVector.fromArray(F, c, co + cs); a11 = FloatVector.fromArray(F, c, co + cs + L);
            a12 = FloatVector.fromArray(F, c, co + cs + 2 * L); a13 = FloatVector.fromArray(F, c, co + cs + 3 * L);
            a20 = FloatVector.fromArray(F, c, co + 2 * cs); a21 = FloatVector.fromArray(F, c, co + 2 * cs + L);
            a22 = FloatVector.fromArray(F, c, co + 2 * cs + 2 * L); a23 = FloatVector.fromArray(F, c, co + 2 * cs + 3 * L);
            a30 = FloatVector.fromArray(F, c, co + 3 * cs); a31 = FloatVector.fromArray(F, c, co + 3 * cs + L);
            a32 = FloatVector.fromArray(F, c, co + 3 * cs + 2 * L); a33 = FloatVector.fromArray(F, c, co + 3 * cs + 3 * L);
        }
        for (int p = 0; p < kv; p += L) {
            FloatVector w0 = FloatVector.fromArray(F, w, wo + p), w1 = FloatVector.fromArray(F, w, wo + ws + p);
            FloatVector w2 = FloatVector.fromArray(F, w, wo + 2 * ws + p), w3 = FloatVector.fromArray(F, w, wo + 3 * ws + p);
            FloatVector v = FloatVector.fromArray(F, x, xo + p);
            a00 = w0.fma(v, a00); a10 = w1.fma(v, a10); a20 = w2.fma(v, a20); a30 = w3.fma(v, a30);
            v = FloatVector.fromArray(F, x, xo + xs + p);
            a01 = w0.fma(v, a01); a11 = w1.fma(v, a11); a21 = w2.fma(v, a21); a31 = w3.fma(v, a31);
            v = FloatVector.fromArray(F, x, xo + 2 * xs + p);
            a02 = w0.fma(v, a02); a12 = w1.fma(v, a12); a22 = w2.fma(v, a22); a32 = w3.fma(v, a32);
            v = FloatVector.fromArray(F, x, xo + 3 * xs + p);
            a03 = w0.fma(v, a03); a13 = w1.fma(v, a13); a23 = w2.fma(v, a23); a33 = w3.fma(v, a33);
        }
        a00.intoArray(c, co); a01.intoArray(c, co + L); a02.intoArray(c, co + 2 * L); a03.intoArray(c, co + 3 * L);
        a10.intoArray(c, co + cs); a11.intoArray(c, co + cs + L); a12.intoArray(c, co + cs + 2 * L); a13.intoArray(c, co + cs + 3 * L);
        a20.intoArray(c, co + 2 * cs); a21.intoArray(c, co + 2 * cs + L); a22.intoArray(c, co + 2 * cs + 2 * L); a23.intoArray(c, co + 2 * cs + 3 * L);
        a30.intoArray(c, co + 3 * cs); a31.intoArray(c, co + 3 * cs + L); a32.intoArray(c, co + 3 * cs + 2 * L); a33.intoArray(c, co + 3 * cs + 3 * L);
    }

    /** 4 weight rows × 2 token rows. */
    private static void kernel4x2(float[] w, int wo, int ws, float[] x, int xo, int xs, int kv, float[] c, int co, int cs, boolean first) {
        FloatVector a00, a01, a10, a11, a20, a21, a30, a31;
        if (first) {
            a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = FloatVector.zero(F);
        } else {
            a00 = FloatVector.fromArray(F, c, co); a01 = FloatVector.fromArray(F, c, co + L);
            a10 = FloatVector.fromArray(F, c, co + cs); a11 = FloatVector.fromArray(F, c, co + cs + L);
            a20 = FloatVector.fromArray(F, c, co + 2 * cs); a21 = FloatVector.fromArray(F, c, co + 2 * cs + L);
            a30 = FloatVector.fromArray(F, c, co + 3 * cs); a31 = FloatVector.fromArray(F, c, co + 3 * cs + L);
        }
        for (int p = 0; p < kv; p += L) {
            FloatVector v0 = FloatVector.fromArray(F, x, xo + p), v1 = FloatVector.fromArray(F, x, xo + xs + p);
            FloatVector r = FloatVector.fromArray(F, w, wo + p);
            a00 = r.fma(v0, a00); a01 = r.fma(v1, a01);
            r = FloatVector.fromArray(F, w, wo + ws + p);
            a10 = r.fma(v0, a10); a11 = r.fma(v1, a11);
            r = FloatVector.fromArray(F, w, wo + 2 * ws + p);
            a20 = r.fma(v0, a20); a21 = r.fma(v1, a21);
            r = FloatVector.fromArray(F, w, wo + 3 * ws + p);
            a30 = r.fma(v0, a30); a31 = r.fma(v1, a31);
        }
        a00.intoArray(c, co); a01.intoArray(c, co + L);
        a10.intoArray(c, co + cs); a11.intoArray(c, co + cs + L);
        a20.intoArray(c, co + 2 * cs); a21.intoArray(c, co + 2 * cs + L);
        a30.intoArray(c, co + 3 * cs); a31.intoArray(c, co + 3 * cs + L);
    }

    /** 4 weight rows × 1 token row. */
    private static void kernel4x1(float[] w, int wo, int ws, float[] x, int xo, int kv, float[] c, int co, int cs, boolean first) {
        FloatVector a0, a1, a2, a3;
        if (first) {
            a0 = a1 = a2 = a3 = FloatVector.zero(F);
        } else {
            a0 = FloatVector.fromArray(F, c, co); a1 = FloatVector.fromArray(F, c, co + cs);
            a2 = FloatVector.fromArray(F, c, co + 2 * cs); a3 = FloatVector.fromArray(F, c, co + 3 * cs);
        }
        for (int p = 0; p < kv; p += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + p);
            a0 = FloatVector.fromArray(F, w, wo + p).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, wo + ws + p).fma(v, a1);
            a2 = FloatVector.fromArray(F, w, wo + 2 * ws + p).fma(v, a2);
            a3 = FloatVector.fromArray(F, w, wo + 3 * ws + p).fma(v, a3);
        }
        a0.intoArray(c, co); a1.intoArray(c, co + cs); a2.intoArray(c, co + 2 * cs); a3.intoArray(c, co + 3 * cs);
    }
}
