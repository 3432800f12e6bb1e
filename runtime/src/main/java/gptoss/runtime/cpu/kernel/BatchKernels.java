package gptoss.runtime.cpu.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Map;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native small-batch kernels ({@code runtime/src/main/c/gptoss_batch.c}, AVX-512) for products of
 * {@link #MIN_TOKENS}..{@link #MAX_TOKENS} token rows with BF16 or MXFP4 weights (a batched decode step, the few
 * tokens routed to one expert in it): a tile of up to 8 weight rows × up to 8 tokens of accumulators in registers,
 * each weight read from memory once for all tokens and decoded in registers, rows streamed with prefetch. The
 * same summation order and bits as the single-row kernels ({@link WeightMatrix#dot}) and {@link Gemm} (tested
 * bit for bit in {@code BatchKernelsTest}).
 * <p>
 * Why: in a batched decode step (8 sequences on bench-m) the Java small-batch path ({@link Bf16Kernels}) took about
 * 5× the single-token time for the BF16 products, and MXFP4 experts with 2..7 tokens ran the single-row kernel once
 * per token, reading their weights once per token (README, Performance, issue 12).
 * <p>
 * Off with {@code -Dgptoss.kernels=java} (as {@link NativeKernels}), with {@code -Dgptoss.batch.native=false}
 * (this path only), where the build had no C compiler or the CPU lacks AVX-512: then the Java kernels run.
 */
public final class BatchKernels {
    /** Token rows from which, and up to which, these kernels take a product. */
    public static final int MIN_TOKENS = 2, MAX_TOKENS = 15;
    static final String PROPERTY = "gptoss.batch.native";
    /** Rows of a BF16 unit ({@link #unitRows}; {@code -Dgptoss.batch.bf16UnitRows}). */
    static final int BF16_UNIT_ROWS = Math.max(1, Integer.getInteger("gptoss.batch.bf16UnitRows", 128));

    private static final NativeBinding BINDING = NativeBinding.bind("Java small-batch kernels", "native BF16/MXFP4 small-batch kernels (AVX-512)",
            Boolean.parseBoolean(System.getProperty(PROPERTY, "true")) ? null : PROPERTY + "=false",
            "gptoss_batch_lanes", Map.of(
                    "gptoss_batch_bf16", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
                    "gptoss_batch_mxfp4", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS)));
    private static final MethodHandle BF16 = BINDING.handle("gptoss_batch_bf16"), MXFP4 = BINDING.handle("gptoss_batch_mxfp4");
    private static final boolean AVAILABLE = BINDING.available();
    private static final String STATUS = BINDING.status();

    private BatchKernels() {
    }

    /** Which small-batch kernels run, for logs. */
    public static String describe() {
        return STATUS;
    }

    /** Whether {@link #rows} computes the product of {@code m} with this many token rows. */
    public static boolean supports(WeightMatrix m, int tokens) {
        if (!AVAILABLE || tokens < MIN_TOKENS || tokens > MAX_TOKENS) return false;
        return (m instanceof Bf16Matrix b && b.isNative()) || (m instanceof Mxfp4Matrix x && x.isNative());
    }

    /**
     * Whether the backend should take {@link #rows} for this product: where {@link #supports} says so, except MXFP4
     * with 2 tokens, which runs faster as the single-row kernel once per token (the second pass over a unit's rows
     * reads them from L1/L2): an expert's gate/up (5760 × 2880) over 20 experts on 2 threads, C harness, three
     * alternating pairs at 00:02 UTC, 0.49–0.58 against 0.55–0.63 ms; at 3 tokens the small-batch kernel is faster
     * (0.59–0.70 against 0.70–0.82 ms).
     */
    public static boolean pays(WeightMatrix m, int tokens) {
        return supports(m, tokens) && (tokens > 2 || !(m instanceof Mxfp4Matrix));
    }

    /**
     * Output rows a thread claims at a time for a product that {@link #pays}: {@link #BF16_UNIT_ROWS} for BF16 (each
     * call copies the token rows once, so calls of 16 rows spent about an eighth of their time on the copy and the
     * call), {@link Gemm#unitRows} otherwise.
     */
    public static int unitRows(WeightMatrix m, int tokens) {
        return m instanceof Bf16Matrix ? BF16_UNIT_ROWS : Gemm.unitRows(tokens);
    }

    /**
     * Rows {@code [row, row + count)} of {@code m} times token rows {@code x[xOffset + t·xStride ..]} for t < tokens
     * (in {@code m.decodeLayout()}): the finished [count × tokens] block ({@code c[r·tokens + t]}) goes to
     * {@code epilogue}, as {@link Gemm#rows} gives it. Only where {@link #supports} says so.
     */
    public static void rows(WeightMatrix m, int row, int count, float[] x, int xOffset, int xStride, int tokens,
                            Gemm.Scratch scratch, Gemm.Epilogue epilogue) {
        if (!supports(m, tokens)) throw new IllegalStateException("no native small-batch kernel for " + m + " × " + tokens);
        Objects.checkFromIndexSize(row, count, m.rows());
        int k = m.cols();
        if (xStride < k) throw new IllegalArgumentException("token stride " + xStride + " < " + k);
        Objects.checkFromIndexSize(xOffset, (long) (tokens - 1) * xStride + k, x.length);
        float[] c = scratch.result(count * tokens);
        try {
            if (m instanceof Bf16Matrix b) {
                BF16.invokeExact(b.segment().address(), b.rowByte(0) / 2, k, MemorySegment.ofArray(x), xOffset, xStride, tokens, row, count, MemorySegment.ofArray(c), packed(scratch, k, tokens));
            } else {
                Mxfp4Matrix q = (Mxfp4Matrix) m;
                MXFP4.invokeExact(q.blocksAddress(), q.scalesAddress(), q.firstBlock(), q.blocksPerRow(), MemorySegment.ofArray(x), xOffset, xStride, tokens, row, count, MemorySegment.ofArray(c));
            }
        } catch (Throwable e) {
            throw new IllegalStateException("native small-batch kernel", e);
        }
        epilogue.write(row, count, tokens, c, 0, tokens);
    }

    /**
     * As {@link #rows(WeightMatrix, int, int, float[], int, int, int, Gemm.Scratch, Gemm.Epilogue)}, with the token
     * rows in native memory ({@code x}, floats from float index {@code xOffset}), e.g. an {@link AlignedRows} copy:
     * same arithmetic, same bits. The kernels load each token's 16 activations per FMA group as one 64-byte vector;
     * from a Java array (8-byte aligned) most of those loads straddle two cache lines, which cost the unembedding of
     * 8 tokens (201088 × 2880, 2 threads) about a fifth of its time in a C harness (50 against 61 ms, 23:04 UTC).
     */
    public static void rows(WeightMatrix m, int row, int count, MemorySegment x, int xOffset, int xStride, int tokens,
                            Gemm.Scratch scratch, Gemm.Epilogue epilogue) {
        if (!supports(m, tokens)) throw new IllegalStateException("no native small-batch kernel for " + m + " × " + tokens);
        if (!x.isNative()) throw new IllegalArgumentException("token rows must be in native memory");
        Objects.checkFromIndexSize(row, count, m.rows());
        int k = m.cols();
        if (xStride < k) throw new IllegalArgumentException("token stride " + xStride + " < " + k);
        Objects.checkFromIndexSize(xOffset, (long) (tokens - 1) * xStride + k, x.byteSize() / Float.BYTES);
        float[] c = scratch.result(count * tokens);
        try {
            if (m instanceof Bf16Matrix b) {
                BF16.invokeExact(b.segment().address(), b.rowByte(0) / 2, k, x, xOffset, xStride, tokens, row, count, MemorySegment.ofArray(c), packed(scratch, k, tokens));
            } else {
                Mxfp4Matrix q = (Mxfp4Matrix) m;
                MXFP4.invokeExact(q.blocksAddress(), q.scalesAddress(), q.firstBlock(), q.blocksPerRow(), x, xOffset, xStride, tokens, row, count, MemorySegment.ofArray(c));
            }
        } catch (Throwable e) {
            throw new IllegalStateException("native small-batch kernel", e);
        }
        epilogue.write(row, count, tokens, c, 0, tokens);
    }

    /**
     * Native memory (64-byte aligned, the thread's scratch) for the BF16 kernel's copy of the token rows, chunk by
     * chunk and token after token, so that its register tiles load every activation from one pointer plus a constant.
     */
    private static MemorySegment packed(Gemm.Scratch scratch, int k, int tokens) {
        return scratch.packed((long) (k / 32) * 32 * tokens * Float.BYTES + 64);
    }

    /**
     * A grow-only native buffer aligned to a cache line, into which a product's token rows are copied once before
     * the threads run the kernels over them (see the native-memory {@code rows}). Not thread-safe.
     */
    public static final class AlignedRows {
        private static final long ALIGN = 64;
        private MemorySegment buffer = MemorySegment.NULL;

        /** {@code floats} floats of {@code src} from {@code offset}, at the start of this buffer (valid until the next copy). */
        public MemorySegment copy(float[] src, int offset, int floats) {
            long bytes = (long) floats * Float.BYTES;
            if (buffer.byteSize() < bytes) {
                buffer = Arena.ofAuto().allocate(Math.max(bytes, buffer.byteSize() * 3 / 2), ALIGN);
            }
            MemorySegment.copy(src, offset, buffer, ValueLayout.JAVA_FLOAT, 0, floats);
            return buffer;
        }
    }
}
