package gptoss.runtime.cpu.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * Weights × several token rows (a prefill chunk, a batched decode step, the tokens routed to one expert):
 * {@code C[o, t] = Σ_p W[o, p] · X[t, p]} over the positions p of the weights' {@link WeightMatrix#decodeLayout()},
 * in the summation order of the package documentation, so every output has the bits of {@link WeightMatrix#dot}
 * whatever the number of tokens, the tiling or the thread.
 * <ul>
 *   <li>The micro-kernel is a dot product blocked in registers: {@link #R} weight rows × {@link #T} token rows
 *       of vector accumulators (4 × 6 = 24 of the 32 AVX-512 registers, plus 4 weight vectors and one token
 *       vector). Vectors run along the depth, so lane j of an accumulator sums the positions p ≡ j (mod L) in
 *       increasing p. Per L positions it loads 4 weight vectors and 6 token vectors for 24 FMAs: 0.42 loads per
 *       FMA where the core sustains one (two 512-bit loads and two FMAs per cycle). Remainders of a tile of 6
 *       tokens run through 4-, 2- and 1-token kernels; the token count is never padded.</li>
 *   <li>A thread claims a unit of {@link #unitRows} output rows. With many tokens, per depth block of
 *       {@link #depth} positions (1024) it decodes the unit's rows once to exact fp32
 *       ({@link WeightMatrix#decode(int, int, int, int, float[], int, int)}) into a panel (32 rows × 1024 floats,
 *       128 KiB, L2) and applies it to every token, 6 at a time: the tile's token rows (6 × 4 KiB) stay in L1
 *       while the weight vectors stream from L2. Between depth blocks the accumulators go through memory
 *       unchanged (the unit's partial vectors, rows × tokens × L floats, L2); deeper blocks measured faster
 *       (single thread, 5760 × 2880 BF16 × 128 tokens: 47 ms at depth 256, 42 at 512, 36 at 1024 and more).</li>
 *   <li>BF16 with fewer than {@link #FEW_TOKENS} tokens skips the panel: {@link Bf16Kernels} widen each row's
 *       bits in registers (two integer operations per 2L weights) over whole rows, so the weights stream from
 *       memory once, interleaved with the FMAs (single thread, 2 tokens: 2.0 ms against 6.1 through the panel,
 *       whose decode and FMAs run in turn and leave memory idle half of the time; 8 tokens: 3.3 against 6.4).</li>
 *   <li>From {@link GemmKernels#MIN_TOKENS} tokens, where the native library was built for AVX-512, the same blocks
 *       run in C ({@link GemmKernels}: panel decoded natively for BF16 and MXFP4, 128-row units, the same 4 × 6
 *       micro-kernel without the bounds checks C2 puts on each load): the same products in the same order, so
 *       the same bits (GemmTest compares both).</li>
 *   <li>After the last block each accumulator is folded as {@link Lanes#sum(FloatVector)} folds.</li>
 * </ul>
 * Token rows are read where they lie ({@link #stride}: whole vectors, zero beyond the layout's length); no packing.
 * Formats whose decoding costs more than the FMAs it feeds (MXFP4: about 46 vector operations per 128 weights)
 * pay off only from {@link #PANEL_MIN_TOKENS} tokens ({@link #pays}); below, the backend runs the single-row
 * kernels once per token, which follow the same order.
 */
public final class Gemm {
    /** Weight rows of a micro-kernel. */
    public static final int R = 4;
    /** Token rows of the widest micro-kernel. */
    public static final int T = 6;
    /**
     * Output rows a thread claims at a time with many tokens. Even, so SwiGLU gate/linear pairs never straddle two
     * units. 128 for the native GEMM, 32 for the Java one. The native GEMM copies each tile of 6 token rows and reads
     * it from L1 for every 4-row group of the unit, and all token rows (1.5 MB for 128 tokens of 2880) come from L3
     * once per unit: more rows per unit spread that over more FMAs (JMH {@code MatMulBenchmark} 5760 × 2880 × 128
     * tokens, 2 threads, GFLOP per CPU-second: 32 rows 120–129, 64 rows 128–142, 128 rows 137–161, 256 rows
     * 137–141; a one-thread C harness: 32 rows 172, 64 rows 183 GFLOP/s).
     */
    private static final int UNIT_ROWS = Integer.getInteger("gptoss.gemm.unitRows", GemmKernels.available() ? 128 : 32);
    /** Output rows a thread claims at a time with fewer than {@link #FEW_TOKENS} tokens: 16 whole rows in flight. */
    private static final int FEW_UNIT_ROWS = Integer.getInteger("gptoss.gemm.fewUnitRows", 16);
    private static final int FEW_TOKENS = 16;
    /**
     * Tokens from which a format decoded into the panel (all but BF16) beats the single-row kernel run once per
     * token: JMH {@code MatMulBenchmark}, MXFP4 5760 × 2880 on 2 threads, 2 tokens 57 against 129 GFLOP/s, 8 tokens
     * 136 against 144 (the single-row kernels reread an expert-sized matrix from L3).
     */
    public static final int PANEL_MIN_TOKENS = Integer.getInteger("gptoss.gemm.panelMinTokens", 8);
    private static final boolean BF16_DIRECT = Boolean.parseBoolean(System.getProperty("gptoss.gemm.bf16Direct", "true"));
    /** Positions of a depth block of the panel path (a multiple of {@link WeightMatrix#DECODE_ALIGN}). */
    private static final int DEPTH = Integer.getInteger("gptoss.gemm.depth", 1024);

    /** Lane j ↔ j XOR w for w = L/2, L/4, L/8, L/16: the steps of {@link Lanes#sum(FloatVector)}. */
    private static final VectorShuffle<Float> SWAP_HALF = VectorShuffle.fromOp(F, j -> j ^ (L / 2));
    private static final VectorShuffle<Float> SWAP_QUARTER = VectorShuffle.fromOp(F, j -> j ^ (L / 4));
    private static final VectorShuffle<Float> SWAP_EIGHTH = VectorShuffle.fromOp(F, j -> j ^ Math.max(1, L / 8));
    private static final VectorShuffle<Float> SWAP_SIXTEENTH = VectorShuffle.fromOp(F, j -> j ^ Math.max(1, L / 16));

    static {
        if (L > 16) throw new ExceptionInInitializerError("Gemm folds at most 16 lanes, not " + L);
    }

    private Gemm() {
    }

    /** Receives finished outputs of a unit: {@code c[cOffset + r·cStride + t]} is row {@code row + r}, token t. */
    @FunctionalInterface
    public interface Epilogue {
        void write(int row, int count, int tokens, float[] c, int cOffset, int cStride);

        /**
         * Where the native GEMM's epilogue ({@link GemmKernels#finish}: fold, bias and SwiGLU in C) should write rows
         * {@code [row, row + count)}, or null to have them folded in Java and passed to {@link #write}. The epilogue
         * must compute what {@code write} would have written from the same sums, to the bit.
         */
        default Output output(int row, int count) {
            return null;
        }
    }

    /**
     * A unit's outputs as the native epilogue writes them: row {@code row + r}, token t to
     * {@code out[offset + t·stride + r]} plus {@code bias[r]}; with {@code swiglu}, {@link gptoss.runtime.ops.Swiglu#apply}
     * of each (gate, linear) row pair (2j, 2j + 1) to {@code out[offset + t·stride + j]}. Reused from unit to unit.
     */
    public static final class Output {
        private float[] out, bias = new float[0];
        private int offset, stride;
        private boolean swiglu;
        private float alpha, limit;

        /** Describes the next unit's destination and returns its bias array (at least count floats) to fill. */
        public float[] set(float[] out, int offset, int stride, boolean swiglu, float alpha, float limit, int count) {
            this.out = out;
            this.offset = offset;
            this.stride = stride;
            this.swiglu = swiglu;
            this.alpha = alpha;
            this.limit = limit;
            if (bias.length < count) bias = new float[count];
            return bias;
        }
    }

    /** Whether a product of m with this many token rows (≥ 2) should run here rather than row by row per token. */
    public static boolean pays(WeightMatrix m, int tokens) {
        return tokens >= 2 && (tokens >= PANEL_MIN_TOKENS || (BF16_DIRECT && m instanceof Bf16Matrix && m.cols() % (2 * L) == 0));
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
        private MemorySegment packed = MemorySegment.NULL;

        /** At least n bytes of native memory for {@link GemmKernels}' packed panel (freed with the scratch). */
        MemorySegment packed(long n) {
            if (packed.byteSize() < n) packed = Arena.ofAuto().allocate(n, 64);
            return packed;
        }

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
        rows(m, row, count, x, xOffset, xStride, tokens, scratch, epilogue, true);
    }

    /** {@link #rows}, with {@code nativeGemm} false always through the Java micro-kernels (tests compare both). */
    static void rows(WeightMatrix m, int row, int count, float[] x, int xOffset, int xStride, int tokens,
                     Scratch scratch, Epilogue epilogue, boolean nativeGemm) {
        int P = m.decodedLength(), kcMax = depth(P), rowsPadded = (count + R - 1) / R * R;
        if (xStride < stride(m)) throw new IllegalArgumentException("token stride " + xStride + " < " + stride(m));
        Objects.checkFromIndexSize(row, count, m.rows());
        Objects.checkFromIndexSize(xOffset, (tokens - 1) * (long) xStride + stride(m), x.length);
        float[] acc = scratch.partial(rowsPadded * tokens * L);
        int rowStride = tokens * L;  // acc vector of row r, token t at r·rowStride + t·L
        if (BF16_DIRECT && tokens < FEW_TOKENS && m instanceof Bf16Matrix b && P % (2 * L) == 0) {
            bf16(b, row, count, x, xOffset, xStride, tokens, acc, rowStride);
        } else if (nativeGemm && tokens >= GemmKernels.MIN_TOKENS && GemmKernels.available()) {
            nativePanels(m, row, count, x, xOffset, xStride, tokens, scratch, acc, rowStride);
            Output o = epilogue.output(row, count);
            if (o != null) {
                int width = o.swiglu ? count / 2 : count;
                if (o.swiglu && count % 2 != 0) throw new IllegalArgumentException("SwiGLU over an odd row count " + count);
                Objects.checkFromIndexSize(o.offset, (tokens - 1) * (long) o.stride + width, o.out.length);
                if (o.stride < width) throw new IllegalArgumentException("output stride " + o.stride + " < " + width);
                GemmKernels.finish(acc, 0, rowStride, count, tokens, o.bias, o.out, o.offset, o.stride, o.swiglu, o.alpha, o.limit);
                return;
            }
        } else {
            panels(m, row, count, x, xOffset, xStride, tokens, scratch, acc, rowStride);
        }
        float[] c = scratch.result(count * tokens);
        for (int i = 0; i < count * tokens; i++) {
            // Lanes.sum written out with constant shuffles (the same adds in the same order): called per output,
            // it must not box or look its shuffles up.
            FloatVector v = FloatVector.fromArray(F, acc, i * L);
            v = v.add(v.rearrange(SWAP_HALF));
            v = v.add(v.rearrange(SWAP_QUARTER));
            if (L >= 8) v = v.add(v.rearrange(SWAP_EIGHTH));
            if (L >= 16) v = v.add(v.rearrange(SWAP_SIXTEENTH));
            c[i] = v.lane(0);
        }
        epilogue.write(row, count, tokens, c, 0, tokens);
    }

    /**
     * {@link GemmKernels}: per depth block the rows decoded once into a packed panel (BF16 and MXFP4 natively,
     * other formats by their Java decode), then the native micro-kernels over every token.
     */
    private static void nativePanels(WeightMatrix m, int row, int count, float[] x, int xOffset, int xStride, int tokens,
                                     Scratch scratch, float[] acc, int rowStride) {
        int P = m.decodedLength(), kcMax = depth(P);
        MemorySegment packed = scratch.packed(GemmKernels.scratchBytes(count, kcMax));
        float[] w = null;
        for (int k0 = 0; k0 < P; k0 += kcMax) {
            int kc = Math.min(kcMax, P - k0), kv = (kc + L - 1) / L * L;
            boolean first = k0 == 0;
            if (m instanceof Bf16Matrix b && b.segment().isNative() && m.cols() % (2 * L) == 0) {
                GemmKernels.bf16(b.segment().address(), b.rowByte(row) / 2, m.cols(), count, k0, kc, x, xOffset + k0, xStride, tokens,
                        acc, 0, rowStride, first, packed);
            } else if (m instanceof Mxfp4Matrix q && q.blockSegment().isNative() && q.scaleSegment().isNative()) {
                GemmKernels.mxfp4(q.blockSegment().address(), q.scaleSegment().address(), q.firstBlockOf(row), q.blocksPerRow(), count, k0, kc,
                        x, xOffset + k0, xStride, tokens, acc, 0, rowStride, first, packed);
            } else {
                if (w == null) w = scratch.panel(count * kcMax);
                m.decode(row, count, k0, kc, w, 0, kcMax);
                if (kv > kc) for (int r = 0; r < count; r++) Arrays.fill(w, r * kcMax + kc, r * kcMax + kv, 0f);
                GemmKernels.f32(w, 0, kcMax, count, x, xOffset + k0, xStride, tokens, kv, acc, 0, rowStride, first, packed);
            }
        }
    }

    /** Any format: each depth block of the rows decoded once into the L1 panel, then the panel kernels. */
    private static void panels(WeightMatrix m, int row, int count, float[] x, int xOffset, int xStride, int tokens,
                               Scratch scratch, float[] acc, int rowStride) {
        int P = m.decodedLength(), kcMax = depth(P), rowsPadded = (count + R - 1) / R * R;
        float[] w = scratch.panel(rowsPadded * kcMax);
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
    }

    /**
     * BF16 rows widened in registers by {@link Bf16Kernels} (no panel): per depth block the first token tile reads
     * the rows from memory, the next ones from L1. Rows past {@code count} repeat the last one (results unused).
     */
    private static void bf16(Bf16Matrix m, int row, int count, float[] x, int xOffset, int xStride, int tokens,
                             float[] acc, int rowStride) {
        int P = m.cols(), kcMax = P, rowsPadded = (count + R - 1) / R * R;  // whole rows: no partials
        MemorySegment s = m.segment();
        for (int k0 = 0; k0 < P; k0 += kcMax) {
            int kc = Math.min(kcMax, P - k0);
            long k0Bytes = 2L * k0;
            boolean first = k0 == 0;
            int t = 0;
            while (t < tokens) {
                int tn = tokens - t >= 6 ? 6 : tokens - t >= 4 ? 4 : tokens - t >= 2 ? 2 : 1;
                int xo = xOffset + t * xStride + k0;
                for (int r = 0; r < rowsPadded; r += R) {
                    long b0 = m.rowByte(row + r) + k0Bytes;
                    long b1 = m.rowByte(row + Math.min(r + 1, count - 1)) + k0Bytes;
                    long b2 = m.rowByte(row + Math.min(r + 2, count - 1)) + k0Bytes;
                    long b3 = m.rowByte(row + Math.min(r + 3, count - 1)) + k0Bytes;
                    int co = r * rowStride + t * L;
                    switch (tn) {
                        case 6 -> Bf16Kernels.kernel4x6(s, b0, b1, b2, b3, x, xo, xStride, kc, acc, co, rowStride, first);
                        case 4 -> Bf16Kernels.kernel4x4(s, b0, b1, b2, b3, x, xo, xStride, kc, acc, co, rowStride, first);
                        case 2 -> Bf16Kernels.kernel4x2(s, b0, b1, b2, b3, x, xo, xStride, kc, acc, co, rowStride, first);
                        default -> Bf16Kernels.kernel4x1(s, b0, b1, b2, b3, x, xo, xStride, kc, acc, co, rowStride, first);
                    }
                }
                t += tn;
            }
        }
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
