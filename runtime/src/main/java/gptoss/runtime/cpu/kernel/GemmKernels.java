package gptoss.runtime.cpu.kernel;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native GEMM micro-kernels ({@code runtime/src/main/c/gptoss_gemm.c}, AVX-512) that {@link Gemm} runs for
 * {@link #MIN_TOKENS} tokens or more: one depth block of a unit's rows decoded once into a packed fp32 panel (BF16
 * and MXFP4 decoded natively, other formats by their Java {@code decode}), then applied to every token by a 4 × 6
 * register-blocked micro-kernel in the package's summation order. Same products in the same order as Gemm's Java
 * micro-kernels, so the same bits; those stay the fallback (no library, no AVX-512, {@code -Dgptoss.kernels=java},
 * or {@code -Dgptoss.gemm.native=false}).
 * <p>
 * Calls are "critical" downcalls (heap arrays passed directly, no thread-state transition); one call is one depth
 * block of one unit (at most 64 rows × 1024 positions × the chunk's tokens: tens to hundreds of µs).
 */
final class GemmKernels {
    /** Tokens from which Gemm runs these kernels; fewer tokens keep their Java paths (the small-batch kernels). */
    static final int MIN_TOKENS = 16;

    private static final NativeBinding BINDING = NativeBinding.bind("Java GEMM", "native GEMM (AVX-512, 4x6 micro-kernel, native fold/bias/SwiGLU epilogue)",
            Boolean.parseBoolean(System.getProperty("gptoss.gemm.native", "true")) ? null : "gptoss.gemm.native=false",
            "gptoss_gemm_lanes", Map.of(
                    "gptoss_gemm_f32", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
                    "gptoss_gemm_bf16", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
                    "gptoss_gemm_mxfp4", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
                    "gptoss_gemm_finish", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                            JAVA_FLOAT, JAVA_FLOAT)));
    private static final MethodHandle F32 = BINDING.handle("gptoss_gemm_f32"), BF16 = BINDING.handle("gptoss_gemm_bf16"),
            MXFP4 = BINDING.handle("gptoss_gemm_mxfp4"), FINISH = BINDING.handle("gptoss_gemm_finish");
    private static final boolean AVAILABLE = BINDING.available();
    private static final String STATUS = BINDING.status();

    private GemmKernels() {
    }

    /** Whether the native GEMM runs. */
    static boolean available() {
        return AVAILABLE;
    }

    /** Which GEMM runs, for logs. */
    static String describe() {
        return STATUS;
    }

    /** Bytes of native scratch one call for {@code count} rows and a depth block of {@code kv} positions needs. */
    static long scratchBytes(int count, int kv) {
        return ((count + 3) / 4 * 4L * kv + 6L * (kv + 16)) * Float.BYTES + 64;
    }

    /** A depth block of an fp32 panel decoded in Java (row r at {@code w[wOffset + r·ws]}, kv positions, zero-padded). */
    static void f32(float[] w, int wOffset, int ws, int count, float[] x, int xOffset, int xStride, int tokens, int kv,
                    float[] acc, int accOffset, int rowStride, boolean first, MemorySegment scratch) {
        try {
            F32.invokeExact(MemorySegment.ofArray(w), wOffset, ws, count, MemorySegment.ofArray(x), xOffset, xStride, tokens, kv,
                    MemorySegment.ofArray(acc), accOffset, rowStride, first ? 1 : 0, scratch.address());
        } catch (Throwable e) {
            throw new IllegalStateException("native GEMM", e);
        }
    }

    /** Positions [from, from + kc) of {@code count} BF16 rows, row r from element {@code first + r·cols} of the tensor at {@code data}. */
    static void bf16(long data, long first, int cols, int count, int from, int kc, float[] x, int xOffset, int xStride, int tokens,
                     float[] acc, int accOffset, int rowStride, boolean firstBlock, MemorySegment scratch) {
        try {
            BF16.invokeExact(data, first, cols, count, from, kc, MemorySegment.ofArray(x), xOffset, xStride, tokens,
                    MemorySegment.ofArray(acc), accOffset, rowStride, firstBlock ? 1 : 0, scratch.address());
        } catch (Throwable e) {
            throw new IllegalStateException("native GEMM", e);
        }
    }

    /** Positions [from, from + kc) of {@code count} MXFP4 rows, row r from block {@code block + r·blocksPerRow} of the tensor at (blocks, scales). */
    static void mxfp4(long blocks, long scales, long block, int blocksPerRow, int count, int from, int kc, float[] x, int xOffset, int xStride,
                      int tokens, float[] acc, int accOffset, int rowStride, boolean firstBlock, MemorySegment scratch) {
        try {
            MXFP4.invokeExact(blocks, scales, block, blocksPerRow, count, from, kc, MemorySegment.ofArray(x), xOffset, xStride, tokens,
                    MemorySegment.ofArray(acc), accOffset, rowStride, firstBlock ? 1 : 0, scratch.address());
        } catch (Throwable e) {
            throw new IllegalStateException("native GEMM", e);
        }
    }

    /**
     * The epilogue of a unit after its last block, in C: each accumulator (row r &lt; count, token t, at
     * {@code acc[accOffset + r·rowStride + t·16]}) folded as {@link Lanes#sum} folds, plus {@code bias[r]}, to
     * {@code out[outOffset + t·outStride + r]}; with {@code swiglu}, {@link gptoss.runtime.ops.Swiglu#apply} of each
     * (gate, linear) row pair (2j, 2j + 1) to {@code out[outOffset + t·outStride + j]}. The bits of the Java fold and
     * epilogue (GemmTest).
     */
    static void finish(float[] acc, int accOffset, int rowStride, int count, int tokens, float[] bias, float[] out, int outOffset,
                       int outStride, boolean swiglu, float alpha, float limit) {
        try {
            FINISH.invokeExact(MemorySegment.ofArray(acc), accOffset, rowStride, count, tokens, MemorySegment.ofArray(bias),
                    MemorySegment.ofArray(out), outOffset, outStride, swiglu ? 1 : 0, alpha, limit);
        } catch (Throwable e) {
            throw new IllegalStateException("native GEMM epilogue", e);
        }
    }
}
