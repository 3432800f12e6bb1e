package gptoss.runtime.cpu.kernel;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native Q8_0 and ggml-MXFP4 matrix-vector kernels ({@code runtime/src/main/c/gptoss_ggml.c}, AVX-512), called
 * through the FFM API; they compute the same bits as the Java kernels of {@link Q8_0Matrix} and
 * {@link GgmlMxfp4Matrix} (same decode, same lanes, same order of FMAs, same fold). They run where the build compiled
 * the library, the CPU has AVX-512 and {@link Lanes#L} is 16, unless {@code -Dgptoss.kernels=java} (or
 * {@code GPTOSS_KERNELS=java}). The library is the one {@link NativeKernels} loads (one copy,
 * {@link NativeKernels#library()}).
 * <p>
 * Why native: C2 compiles the Java kernels' byte widening and table lookups to about twice the instructions, and
 * from memory the instruction count per byte decides how far decoding and reading overlap (README, GGUF).
 * Calls are "critical" downcalls (no thread-state transition, heap arrays passed directly); a rows call reads
 * one claimed stretch of a matrix (at most about a megabyte, tens of microseconds), so none holds a safepoint long.
 */
final class GgmlKernels {
    private static final MethodHandle Q8_DOT, Q8_DOT8, Q8_ROWS, MX_DOT, MX_DOT8, MX_ROWS;
    private static final boolean ENABLED;
    private static final String STATUS;

    static {
        MethodHandle q8 = null, q88 = null, q8r = null, mx = null, mx8 = null, mxr = null;
        boolean enabled = false;
        String status;
        if (NativeKernels.javaChosen()) {
            status = "Java Q8_0/ggml-MXFP4 kernels (" + NativeKernels.PROPERTY + "=java)";
        } else if (Lanes.L != 16) {
            status = "Java Q8_0/ggml-MXFP4 kernels (" + Lanes.L + " float lanes; the native ones need 16)";
        } else {
            try {
                SymbolLookup lib = NativeKernels.library();
                if (lib == null) {
                    status = "Java Q8_0/ggml-MXFP4 kernels (no native library)";
                } else {
                    Linker linker = Linker.nativeLinker();
                    int lanes = (int) linker.downcallHandle(lib.findOrThrow("gptoss_ggml_lanes"), FunctionDescriptor.of(JAVA_INT)).invokeExact();
                    if (lanes == 16) {
                        Linker.Option critical = Linker.Option.critical(true);
                        FunctionDescriptor dot = FunctionDescriptor.of(JAVA_FLOAT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
                        FunctionDescriptor dot8 = FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT,
                                JAVA_LONG, JAVA_LONG, JAVA_LONG);
                        q8 = linker.downcallHandle(lib.findOrThrow("gptoss_q8_0_dot"), dot, critical);
                        q88 = linker.downcallHandle(lib.findOrThrow("gptoss_q8_0_dot8"), dot8, critical);
                        mx = linker.downcallHandle(lib.findOrThrow("gptoss_ggml_mxfp4_dot"), dot, critical);
                        mx8 = linker.downcallHandle(lib.findOrThrow("gptoss_ggml_mxfp4_dot8"), dot8, critical);
                        FunctionDescriptor rows = FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT);
                        q8r = linker.downcallHandle(lib.findOrThrow("gptoss_q8_0_rows"), rows, critical);
                        mxr = linker.downcallHandle(lib.findOrThrow("gptoss_ggml_mxfp4_rows"), rows, critical);
                        enabled = true;
                        status = "native Q8_0/ggml-MXFP4 kernels (AVX-512)";
                    } else {
                        status = "Java Q8_0/ggml-MXFP4 kernels (the native ones need AVX-512)";
                    }
                }
            } catch (Throwable e) {
                q8 = q88 = q8r = mx = mx8 = mxr = null;
                enabled = false;
                status = "Java Q8_0/ggml-MXFP4 kernels (native library failed to load: " + e + ")";
            }
        }
        Q8_DOT = q8;
        Q8_DOT8 = q88;
        MX_DOT = mx;
        MX_DOT8 = mx8;
        Q8_ROWS = q8r;
        MX_ROWS = mxr;
        ENABLED = enabled;
        STATUS = status;
    }

    private GgmlKernels() {
    }

    /** Whether the native kernels run. */
    static boolean enabled() {
        return ENABLED;
    }

    /** Which kernels run, for logs. */
    static String describe() {
        return STATUS;
    }

    /** Q8_0 row at native address {@code row} ({@code blocks} blocks) times x from {@code xOffset}. */
    static float q8Dot(long row, int blocks, float[] x, int xOffset) {
        try {
            return (float) Q8_DOT.invokeExact(row, blocks, MemorySegment.ofArray(x), xOffset);
        } catch (Throwable e) {
            throw new IllegalStateException("native Q8_0 kernel", e);
        }
    }

    /**
     * Eight Q8_0 rows: row 2i at {@code a + i·step}, 2i+1 at {@code b + i·step}, to {@code out[outOffset ..]};
     * meanwhile the {@code blocks · span} bytes from {@code prefetchA} (and {@code prefetchB} unless 0) are
     * prefetched, {@code span} 0 for none: the rows of the next pass (see {@link Q8_0Matrix#dot8}).
     */
    static void q8Dot8(long a, long b, long step, int blocks, float[] x, int xOffset, float[] out, int outOffset,
                          long prefetchA, long prefetchB, long span) {
        try {
            Q8_DOT8.invokeExact(a, b, step, blocks, MemorySegment.ofArray(x), xOffset, MemorySegment.ofArray(out), outOffset,
                    prefetchA, prefetchB, span);
        } catch (Throwable e) {
            throw new IllegalStateException("native Q8_0 kernel", e);
        }
    }

    /**
     * Rows {@code [from, to)} of the Q8_0 matrix at native address {@code base} ({@code rowBytes} apart) times x,
     * row r to {@code out[outOffset + r]}: the passes of {@link #q8Dot8} (adjacent rows, prefetching the next pass),
     * then the rest row by row, in one call (one downcall per eight rows cost 10-20 % of the rate).
     */
    static void q8Rows(long base, long rowBytes, int from, int to, int blocks, float[] x, int xOffset, float[] out, int outOffset) {
        try {
            Q8_ROWS.invokeExact(base, rowBytes, from, to, blocks, MemorySegment.ofArray(x), xOffset, MemorySegment.ofArray(out), outOffset);
        } catch (Throwable e) {
            throw new IllegalStateException("native Q8_0 kernel", e);
        }
    }

    /** As {@link #q8Rows}, for ggml MXFP4. */
    static void mxfp4Rows(long base, long rowBytes, int from, int to, int blocks, float[] x, int xOffset, float[] out, int outOffset) {
        try {
            MX_ROWS.invokeExact(base, rowBytes, from, to, blocks, MemorySegment.ofArray(x), xOffset, MemorySegment.ofArray(out), outOffset);
        } catch (Throwable e) {
            throw new IllegalStateException("native ggml MXFP4 kernel", e);
        }
    }

    /** ggml MXFP4 row at native address {@code row} times x from {@code xOffset}. */
    static float mxfp4Dot(long row, int blocks, float[] x, int xOffset) {
        try {
            return (float) MX_DOT.invokeExact(row, blocks, MemorySegment.ofArray(x), xOffset);
        } catch (Throwable e) {
            throw new IllegalStateException("native ggml MXFP4 kernel", e);
        }
    }

    /** Eight ggml MXFP4 rows, addressed as in {@link #q8Dot8}. */
    static void mxfp4Dot8(long a, long b, long step, int blocks, float[] x, int xOffset, float[] out, int outOffset,
                          long prefetchA, long prefetchB, long span) {
        try {
            MX_DOT8.invokeExact(a, b, step, blocks, MemorySegment.ofArray(x), xOffset, MemorySegment.ofArray(out), outOffset,
                    prefetchA, prefetchB, span);
        } catch (Throwable e) {
            throw new IllegalStateException("native ggml MXFP4 kernel", e);
        }
    }
}
