package gptoss.runtime.cpu.kernel;

import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * Weights × a chunk of token rows (prefill, the tokens routed to one expert), built like a GotoBLAS/BLIS GEMM:
 * {@code C[o, t] = Σ_k W[o, k] · X[t, k]}.
 * <ul>
 *   <li>The token rows are packed once per product ({@link #pack}) into micro-panels of {@link #TILE} tokens (the
 *       last one may be L wide): panel j holds, for each k, its tokens side by side, so the micro-kernel reads one
 *       contiguous stream. Tokens are padded with zeros to whole vectors ({@link #paddedTokens}).</li>
 *   <li>A thread claims a unit of {@link #UNIT_ROWS} output rows. For each depth block of {@code kc} columns
 *       ({@link #depth}), each panel of
 *       {@link #MR} weight rows is decoded once to fp32 ({@link WeightMatrix#decode(int, int, int, int, float[], int, int)},
 *       exact for BF16 and MXFP4) into a small buffer that stays in L1, and applied to every token.</li>
 *   <li>The micro-kernel keeps {@code MR × 2} vector accumulators in registers (12 × 2 = 24 of the 32 AVX-512
 *       registers; 6 × 2 = 12 of the 16 AVX2 ones): per k, two vector loads of X̃ and MR broadcast weights feed
 *       2·MR independent FMAs. Vectors run along the tokens, so no horizontal sums are needed.</li>
 * </ul>
 * Every output is one fp32 sum over k in the same order whatever the tiling, the token count or the thread
 * (partial sums go through memory unchanged between depth blocks), so a result never depends on how a chunk
 * was split or shared.
 */
public final class Gemm {
    /** Weight rows per micro-panel: 12 with 512-bit vectors, 6 with 256-bit ones (accumulators: MR × 2 vectors). */
    public static final int MR = L >= 16 ? 12 : 6;
    /** Tokens per packed micro-panel: two vectors. */
    public static final int TILE = 2 * L;
    /** Output rows a thread claims at a time (even, so SwiGLU gate/linear pairs never straddle two units). */
    public static final int UNIT_ROWS = 4 * MR;
    /**
     * Depth of a block: the weight panel (MR × 512 floats, 24 KiB) stays in L1 while the token micro-panels
     * stream through. Measured on the busy shared machine (1 thread, GFLOP per thread CPU-second, 5760 × 2880
     * BF16): depth 512 gave 166 at 128 tokens and 172 at 512, depth 128 gave 140 and 130 (more calls, more
     * accumulator traffic per FMA); 1024 was no better.
     */
    private static final int DEPTH = Integer.getInteger("gptoss.gemm.depth", 512);

    private Gemm() {
    }

    /** Receives finished outputs of a unit: {@code c[cOffset + r·cStride + t]} is row {@code row + r}, token t. */
    @FunctionalInterface
    public interface Epilogue {
        void write(int row, int count, int tokens, float[] c, int cOffset, int cStride);
    }

    /** Tokens rounded up to whole vectors. */
    public static int paddedTokens(int tokens) {
        return (tokens + L - 1) / L * L;
    }

    /** Floats {@link #pack} writes for this many tokens of depth k. */
    public static int packedLength(int tokens, int k) {
        return paddedTokens(tokens) * k;
    }

    /** Depth block for a product of depth k: {@link #DEPTH} or k rounded up to {@link WeightMatrix#DECODE_ALIGN}. */
    public static int depth(int k) {
        int align = WeightMatrix.DECODE_ALIGN;
        return Math.min(DEPTH / align * align, (k + align - 1) / align * align);
    }

    /**
     * Packs {@code tokens} rows of {@code k} floats ({@code x[xOffset + t·xStride + i]}, already in the weights'
     * {@link WeightMatrix#decodeLayout()}) into {@code dst}: tokens {@code [t0, t0 + width)} of each micro-panel
     * (t0 a multiple of {@link #TILE}, width {@link #TILE} or the padded rest) at {@code t0·k}, element i of token
     * t0 + j at {@code t0·k + i·width + j}; padding tokens are zero.
     */
    public static void pack(float[] x, int xOffset, int xStride, int tokens, int k, float[] dst) {
        int tp = paddedTokens(tokens);
        if (dst.length < tp * k) throw new IllegalArgumentException("packed buffer of " + dst.length + " floats < " + tp * k);
        for (int t0 = 0; t0 < tp; t0 += TILE) {
            int width = Math.min(TILE, tp - t0), real = Math.min(width, tokens - t0), base = t0 * k;
            for (int i0 = 0; i0 < k; i0 += 64) {
                int i1 = Math.min(k, i0 + 64);
                for (int j = 0; j < real; j++) {
                    int src = xOffset + (t0 + j) * xStride;
                    for (int i = i0; i < i1; i++) dst[base + i * width + j] = x[src + i];
                }
                for (int i = i0; i < i1 && real < width; i++) Arrays.fill(dst, base + i * width + real, base + (i + 1) * width, 0f);
            }
        }
    }

    /** Work memory of one thread (grows, never shrinks). */
    public static final class Scratch {
        private float[] panel = new float[0], acc = new float[0];

        float[] panel(int n) {
            if (panel.length < n) panel = new float[n];
            return panel;
        }

        float[] acc(int n) {
            if (acc.length < n) acc = new float[n];
            return acc;
        }
    }

    /**
     * Rows {@code [row, row + count)} of {@code m} times the {@code tokens} packed token rows (from {@link #pack}):
     * the finished [count × tokens] block goes to {@code epilogue}.
     */
    public static void rows(WeightMatrix m, int row, int count, float[] packed, int tokens, Scratch scratch, Epilogue epilogue) {
        int K = m.cols(), tp = paddedTokens(tokens), kcMax = depth(K);
        int panels = (count + MR - 1) / MR;
        float[] acc = scratch.acc(panels * MR * tp), w = scratch.panel(MR * kcMax);
        Arrays.fill(acc, 0, panels * MR * tp, 0f);
        for (int k0 = 0; k0 < K; k0 += kcMax) {
            int kc = Math.min(kcMax, K - k0);
            for (int p = 0; p < panels; p++) {
                int r0 = p * MR, n = Math.min(MR, count - r0);
                m.decode(row + r0, n, k0, kc, w, 0, kcMax);
                if (n < MR) Arrays.fill(w, n * kcMax, MR * kcMax, 0f);
                int co = r0 * tp, t = 0;
                if (MR == 12) {
                    for (; t + TILE <= tp; t += TILE) kernel12x2(w, kcMax, packed, t * K + k0 * TILE, TILE, kc, acc, co + t, tp);
                    if (t < tp) kernel12x1(w, kcMax, packed, t * K + k0 * L, L, kc, acc, co + t, tp);
                } else {
                    for (; t + TILE <= tp; t += TILE) kernel6x2(w, kcMax, packed, t * K + k0 * TILE, TILE, kc, acc, co + t, tp);
                    if (t < tp) kernel6x1(w, kcMax, packed, t * K + k0 * L, L, kc, acc, co + t, tp);
                }
            }
        }
        epilogue.write(row, count, tokens, acc, 0, tp);
    }

    /** 12 weight rows × 2 vectors of tokens over depth kc, accumulated into c. */
    private static void kernel12x2(float[] w, int ws, float[] x, int xo, int xs, int kc, float[] c, int co, int cs) {
        FloatVector a0_0 = FloatVector.fromArray(F, c, co);
        FloatVector a0_1 = FloatVector.fromArray(F, c, co + L);
        FloatVector a1_0 = FloatVector.fromArray(F, c, co + 1 * cs);
        FloatVector a1_1 = FloatVector.fromArray(F, c, co + 1 * cs + L);
        FloatVector a2_0 = FloatVector.fromArray(F, c, co + 2 * cs);
        FloatVector a2_1 = FloatVector.fromArray(F, c, co + 2 * cs + L);
        FloatVector a3_0 = FloatVector.fromArray(F, c, co + 3 * cs);
        FloatVector a3_1 = FloatVector.fromArray(F, c, co + 3 * cs + L);
        FloatVector a4_0 = FloatVector.fromArray(F, c, co + 4 * cs);
        FloatVector a4_1 = FloatVector.fromArray(F, c, co + 4 * cs + L);
        FloatVector a5_0 = FloatVector.fromArray(F, c, co + 5 * cs);
        FloatVector a5_1 = FloatVector.fromArray(F, c, co + 5 * cs + L);
        FloatVector a6_0 = FloatVector.fromArray(F, c, co + 6 * cs);
        FloatVector a6_1 = FloatVector.fromArray(F, c, co + 6 * cs + L);
        FloatVector a7_0 = FloatVector.fromArray(F, c, co + 7 * cs);
        FloatVector a7_1 = FloatVector.fromArray(F, c, co + 7 * cs + L);
        FloatVector a8_0 = FloatVector.fromArray(F, c, co + 8 * cs);
        FloatVector a8_1 = FloatVector.fromArray(F, c, co + 8 * cs + L);
        FloatVector a9_0 = FloatVector.fromArray(F, c, co + 9 * cs);
        FloatVector a9_1 = FloatVector.fromArray(F, c, co + 9 * cs + L);
        FloatVector a10_0 = FloatVector.fromArray(F, c, co + 10 * cs);
        FloatVector a10_1 = FloatVector.fromArray(F, c, co + 10 * cs + L);
        FloatVector a11_0 = FloatVector.fromArray(F, c, co + 11 * cs);
        FloatVector a11_1 = FloatVector.fromArray(F, c, co + 11 * cs + L);
        for (int k = 0; k < kc; k++) {
            int xi = xo + k * xs;
            FloatVector x0 = FloatVector.fromArray(F, x, xi);
            FloatVector x1 = FloatVector.fromArray(F, x, xi + L);
            FloatVector w0 = FloatVector.broadcast(F, w[k]);
            a0_0 = w0.fma(x0, a0_0); a0_1 = w0.fma(x1, a0_1);
            FloatVector w1 = FloatVector.broadcast(F, w[ws + k]);
            a1_0 = w1.fma(x0, a1_0); a1_1 = w1.fma(x1, a1_1);
            FloatVector w2 = FloatVector.broadcast(F, w[2 * ws + k]);
            a2_0 = w2.fma(x0, a2_0); a2_1 = w2.fma(x1, a2_1);
            FloatVector w3 = FloatVector.broadcast(F, w[3 * ws + k]);
            a3_0 = w3.fma(x0, a3_0); a3_1 = w3.fma(x1, a3_1);
            FloatVector w4 = FloatVector.broadcast(F, w[4 * ws + k]);
            a4_0 = w4.fma(x0, a4_0); a4_1 = w4.fma(x1, a4_1);
            FloatVector w5 = FloatVector.broadcast(F, w[5 * ws + k]);
            a5_0 = w5.fma(x0, a5_0); a5_1 = w5.fma(x1, a5_1);
            FloatVector w6 = FloatVector.broadcast(F, w[6 * ws + k]);
            a6_0 = w6.fma(x0, a6_0); a6_1 = w6.fma(x1, a6_1);
            FloatVector w7 = FloatVector.broadcast(F, w[7 * ws + k]);
            a7_0 = w7.fma(x0, a7_0); a7_1 = w7.fma(x1, a7_1);
            FloatVector w8 = FloatVector.broadcast(F, w[8 * ws + k]);
            a8_0 = w8.fma(x0, a8_0); a8_1 = w8.fma(x1, a8_1);
            FloatVector w9 = FloatVector.broadcast(F, w[9 * ws + k]);
            a9_0 = w9.fma(x0, a9_0); a9_1 = w9.fma(x1, a9_1);
            FloatVector w10 = FloatVector.broadcast(F, w[10 * ws + k]);
            a10_0 = w10.fma(x0, a10_0); a10_1 = w10.fma(x1, a10_1);
            FloatVector w11 = FloatVector.broadcast(F, w[11 * ws + k]);
            a11_0 = w11.fma(x0, a11_0); a11_1 = w11.fma(x1, a11_1);
        }
        a0_0.intoArray(c, co);
        a0_1.intoArray(c, co + L);
        a1_0.intoArray(c, co + 1 * cs);
        a1_1.intoArray(c, co + 1 * cs + L);
        a2_0.intoArray(c, co + 2 * cs);
        a2_1.intoArray(c, co + 2 * cs + L);
        a3_0.intoArray(c, co + 3 * cs);
        a3_1.intoArray(c, co + 3 * cs + L);
        a4_0.intoArray(c, co + 4 * cs);
        a4_1.intoArray(c, co + 4 * cs + L);
        a5_0.intoArray(c, co + 5 * cs);
        a5_1.intoArray(c, co + 5 * cs + L);
        a6_0.intoArray(c, co + 6 * cs);
        a6_1.intoArray(c, co + 6 * cs + L);
        a7_0.intoArray(c, co + 7 * cs);
        a7_1.intoArray(c, co + 7 * cs + L);
        a8_0.intoArray(c, co + 8 * cs);
        a8_1.intoArray(c, co + 8 * cs + L);
        a9_0.intoArray(c, co + 9 * cs);
        a9_1.intoArray(c, co + 9 * cs + L);
        a10_0.intoArray(c, co + 10 * cs);
        a10_1.intoArray(c, co + 10 * cs + L);
        a11_0.intoArray(c, co + 11 * cs);
        a11_1.intoArray(c, co + 11 * cs + L);
    }

    /** 12 weight rows × 1 vector of tokens over depth kc, accumulated into c. */
    private static void kernel12x1(float[] w, int ws, float[] x, int xo, int xs, int kc, float[] c, int co, int cs) {
        FloatVector a0_0 = FloatVector.fromArray(F, c, co);
        FloatVector a1_0 = FloatVector.fromArray(F, c, co + 1 * cs);
        FloatVector a2_0 = FloatVector.fromArray(F, c, co + 2 * cs);
        FloatVector a3_0 = FloatVector.fromArray(F, c, co + 3 * cs);
        FloatVector a4_0 = FloatVector.fromArray(F, c, co + 4 * cs);
        FloatVector a5_0 = FloatVector.fromArray(F, c, co + 5 * cs);
        FloatVector a6_0 = FloatVector.fromArray(F, c, co + 6 * cs);
        FloatVector a7_0 = FloatVector.fromArray(F, c, co + 7 * cs);
        FloatVector a8_0 = FloatVector.fromArray(F, c, co + 8 * cs);
        FloatVector a9_0 = FloatVector.fromArray(F, c, co + 9 * cs);
        FloatVector a10_0 = FloatVector.fromArray(F, c, co + 10 * cs);
        FloatVector a11_0 = FloatVector.fromArray(F, c, co + 11 * cs);
        for (int k = 0; k < kc; k++) {
            int xi = xo + k * xs;
            FloatVector x0 = FloatVector.fromArray(F, x, xi);
            FloatVector w0 = FloatVector.broadcast(F, w[k]);
            a0_0 = w0.fma(x0, a0_0);
            FloatVector w1 = FloatVector.broadcast(F, w[ws + k]);
            a1_0 = w1.fma(x0, a1_0);
            FloatVector w2 = FloatVector.broadcast(F, w[2 * ws + k]);
            a2_0 = w2.fma(x0, a2_0);
            FloatVector w3 = FloatVector.broadcast(F, w[3 * ws + k]);
            a3_0 = w3.fma(x0, a3_0);
            FloatVector w4 = FloatVector.broadcast(F, w[4 * ws + k]);
            a4_0 = w4.fma(x0, a4_0);
            FloatVector w5 = FloatVector.broadcast(F, w[5 * ws + k]);
            a5_0 = w5.fma(x0, a5_0);
            FloatVector w6 = FloatVector.broadcast(F, w[6 * ws + k]);
            a6_0 = w6.fma(x0, a6_0);
            FloatVector w7 = FloatVector.broadcast(F, w[7 * ws + k]);
            a7_0 = w7.fma(x0, a7_0);
            FloatVector w8 = FloatVector.broadcast(F, w[8 * ws + k]);
            a8_0 = w8.fma(x0, a8_0);
            FloatVector w9 = FloatVector.broadcast(F, w[9 * ws + k]);
            a9_0 = w9.fma(x0, a9_0);
            FloatVector w10 = FloatVector.broadcast(F, w[10 * ws + k]);
            a10_0 = w10.fma(x0, a10_0);
            FloatVector w11 = FloatVector.broadcast(F, w[11 * ws + k]);
            a11_0 = w11.fma(x0, a11_0);
        }
        a0_0.intoArray(c, co);
        a1_0.intoArray(c, co + 1 * cs);
        a2_0.intoArray(c, co + 2 * cs);
        a3_0.intoArray(c, co + 3 * cs);
        a4_0.intoArray(c, co + 4 * cs);
        a5_0.intoArray(c, co + 5 * cs);
        a6_0.intoArray(c, co + 6 * cs);
        a7_0.intoArray(c, co + 7 * cs);
        a8_0.intoArray(c, co + 8 * cs);
        a9_0.intoArray(c, co + 9 * cs);
        a10_0.intoArray(c, co + 10 * cs);
        a11_0.intoArray(c, co + 11 * cs);
    }

    /** 6 weight rows × 2 vectors of tokens over depth kc, accumulated into c. */
    private static void kernel6x2(float[] w, int ws, float[] x, int xo, int xs, int kc, float[] c, int co, int cs) {
        FloatVector a0_0 = FloatVector.fromArray(F, c, co);
        FloatVector a0_1 = FloatVector.fromArray(F, c, co + L);
        FloatVector a1_0 = FloatVector.fromArray(F, c, co + 1 * cs);
        FloatVector a1_1 = FloatVector.fromArray(F, c, co + 1 * cs + L);
        FloatVector a2_0 = FloatVector.fromArray(F, c, co + 2 * cs);
        FloatVector a2_1 = FloatVector.fromArray(F, c, co + 2 * cs + L);
        FloatVector a3_0 = FloatVector.fromArray(F, c, co + 3 * cs);
        FloatVector a3_1 = FloatVector.fromArray(F, c, co + 3 * cs + L);
        FloatVector a4_0 = FloatVector.fromArray(F, c, co + 4 * cs);
        FloatVector a4_1 = FloatVector.fromArray(F, c, co + 4 * cs + L);
        FloatVector a5_0 = FloatVector.fromArray(F, c, co + 5 * cs);
        FloatVector a5_1 = FloatVector.fromArray(F, c, co + 5 * cs + L);
        for (int k = 0; k < kc; k++) {
            int xi = xo + k * xs;
            FloatVector x0 = FloatVector.fromArray(F, x, xi);
            FloatVector x1 = FloatVector.fromArray(F, x, xi + L);
            FloatVector w0 = FloatVector.broadcast(F, w[k]);
            a0_0 = w0.fma(x0, a0_0); a0_1 = w0.fma(x1, a0_1);
            FloatVector w1 = FloatVector.broadcast(F, w[ws + k]);
            a1_0 = w1.fma(x0, a1_0); a1_1 = w1.fma(x1, a1_1);
            FloatVector w2 = FloatVector.broadcast(F, w[2 * ws + k]);
            a2_0 = w2.fma(x0, a2_0); a2_1 = w2.fma(x1, a2_1);
            FloatVector w3 = FloatVector.broadcast(F, w[3 * ws + k]);
            a3_0 = w3.fma(x0, a3_0); a3_1 = w3.fma(x1, a3_1);
            FloatVector w4 = FloatVector.broadcast(F, w[4 * ws + k]);
            a4_0 = w4.fma(x0, a4_0); a4_1 = w4.fma(x1, a4_1);
            FloatVector w5 = FloatVector.broadcast(F, w[5 * ws + k]);
            a5_0 = w5.fma(x0, a5_0); a5_1 = w5.fma(x1, a5_1);
        }
        a0_0.intoArray(c, co);
        a0_1.intoArray(c, co + L);
        a1_0.intoArray(c, co + 1 * cs);
        a1_1.intoArray(c, co + 1 * cs + L);
        a2_0.intoArray(c, co + 2 * cs);
        a2_1.intoArray(c, co + 2 * cs + L);
        a3_0.intoArray(c, co + 3 * cs);
        a3_1.intoArray(c, co + 3 * cs + L);
        a4_0.intoArray(c, co + 4 * cs);
        a4_1.intoArray(c, co + 4 * cs + L);
        a5_0.intoArray(c, co + 5 * cs);
        a5_1.intoArray(c, co + 5 * cs + L);
    }

    /** 6 weight rows × 1 vector of tokens over depth kc, accumulated into c. */
    private static void kernel6x1(float[] w, int ws, float[] x, int xo, int xs, int kc, float[] c, int co, int cs) {
        FloatVector a0_0 = FloatVector.fromArray(F, c, co);
        FloatVector a1_0 = FloatVector.fromArray(F, c, co + 1 * cs);
        FloatVector a2_0 = FloatVector.fromArray(F, c, co + 2 * cs);
        FloatVector a3_0 = FloatVector.fromArray(F, c, co + 3 * cs);
        FloatVector a4_0 = FloatVector.fromArray(F, c, co + 4 * cs);
        FloatVector a5_0 = FloatVector.fromArray(F, c, co + 5 * cs);
        for (int k = 0; k < kc; k++) {
            int xi = xo + k * xs;
            FloatVector x0 = FloatVector.fromArray(F, x, xi);
            FloatVector w0 = FloatVector.broadcast(F, w[k]);
            a0_0 = w0.fma(x0, a0_0);
            FloatVector w1 = FloatVector.broadcast(F, w[ws + k]);
            a1_0 = w1.fma(x0, a1_0);
            FloatVector w2 = FloatVector.broadcast(F, w[2 * ws + k]);
            a2_0 = w2.fma(x0, a2_0);
            FloatVector w3 = FloatVector.broadcast(F, w[3 * ws + k]);
            a3_0 = w3.fma(x0, a3_0);
            FloatVector w4 = FloatVector.broadcast(F, w[4 * ws + k]);
            a4_0 = w4.fma(x0, a4_0);
            FloatVector w5 = FloatVector.broadcast(F, w[5 * ws + k]);
            a5_0 = w5.fma(x0, a5_0);
        }
        a0_0.intoArray(c, co);
        a1_0.intoArray(c, co + 1 * cs);
        a2_0.intoArray(c, co + 2 * cs);
        a3_0.intoArray(c, co + 3 * cs);
        a4_0.intoArray(c, co + 4 * cs);
        a5_0.intoArray(c, co + 5 * cs);
    }
}
