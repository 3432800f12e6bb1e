package gptoss.runtime.cpu.kernel;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.LinkedHashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native matrix-vector kernels of one ggml block format ({@code runtime/src/main/c/gptoss_ggml.c}, AVX-512),
 * called through the FFM API: {@link #Q8_0} and {@link #MXFP4}, each three calls (one row, eight rows, a range of
 * rows). They compute the same bits as the Java kernels of {@link Q8_0Matrix} and {@link GgmlMxfp4Matrix} (same
 * decode, same lanes, same order of FMAs, same fold). They run where the build compiled the library, the CPU has
 * AVX-512 and {@link Lanes#L} is 16, unless {@code -Dgptoss.kernels=java} (or {@code GPTOSS_KERNELS=java}). The
 * library is the one {@link NativeKernels} loads (one copy, {@link NativeKernels#library()}).
 * <p>
 * Why native: C2 compiles the Java kernels' byte widening and table lookups to about twice the instructions, and
 * from memory the instruction count per byte decides how far decoding and reading overlap (README, GGUF).
 * Calls are "critical" downcalls (no thread-state transition, heap arrays passed directly); a rows call reads
 * one claimed stretch of a matrix (at most about a megabyte, tens of microseconds), so none holds a safepoint long.
 * A record held in static finals ({@link #Q8_0}, {@link #MXFP4}): the JIT takes the handles for constants and
 * inlines the downcalls, as it would static final handles.
 */
record GgmlKernels(MethodHandle dotCall, MethodHandle dot8Call, MethodHandle rowsCall, String name) {
    /** The kernels of each format, or null where the Java ones run. */
    static final GgmlKernels Q8_0, MXFP4;
    private static final String STATUS;

    static {
        Map<String, FunctionDescriptor> functions = new LinkedHashMap<>();
        for (String prefix : new String[] {"gptoss_q8_0", "gptoss_ggml_mxfp4"}) {
            functions.put(prefix + "_dot", FunctionDescriptor.of(JAVA_FLOAT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
            functions.put(prefix + "_dot8", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS,
                    JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
            functions.put(prefix + "_rows", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT,
                    ADDRESS, JAVA_INT));
        }
        NativeBinding binding = NativeBinding.bind("Java Q8_0/ggml-MXFP4 kernels", "native Q8_0/ggml-MXFP4 kernels (AVX-512)", null,
                "gptoss_ggml_lanes", functions);
        Q8_0 = binding.available() ? of(binding, "gptoss_q8_0", "native Q8_0 kernel") : null;
        MXFP4 = binding.available() ? of(binding, "gptoss_ggml_mxfp4", "native ggml MXFP4 kernel") : null;
        STATUS = binding.status();
    }

    /** The three kernels {@code PREFIX_dot}, {@code PREFIX_dot8}, {@code PREFIX_rows} of one format. */
    private static GgmlKernels of(NativeBinding binding, String prefix, String name) {
        return new GgmlKernels(binding.handle(prefix + "_dot"), binding.handle(prefix + "_dot8"), binding.handle(prefix + "_rows"), name);
    }

    /** Whether the native kernels run. */
    static boolean enabled() {
        return Q8_0 != null;
    }

    /** Which kernels run, for logs. */
    static String describe() {
        return STATUS;
    }

    /** The row at native address {@code row} ({@code blocks} blocks) times x from {@code xOffset}. */
    float dot(long row, int blocks, float[] x, int xOffset) {
        try {
            return (float) dotCall.invokeExact(row, blocks, MemorySegment.ofArray(x), xOffset);
        } catch (Throwable e) {
            throw new IllegalStateException(name, e);
        }
    }

    /**
     * Eight rows: row 2i at {@code a + i·step}, 2i+1 at {@code b + i·step}, to {@code out[outOffset ..]};
     * meanwhile the {@code blocks · span} bytes from {@code prefetchA} (and {@code prefetchB} unless 0) are
     * prefetched, {@code span} 0 for none: the rows of the next pass (see {@link GgmlBlockMatrix#dot8}).
     */
    void dot8(long a, long b, long step, int blocks, float[] x, int xOffset, float[] out, int outOffset,
              long prefetchA, long prefetchB, long span) {
        try {
            dot8Call.invokeExact(a, b, step, blocks, MemorySegment.ofArray(x), xOffset, MemorySegment.ofArray(out), outOffset,
                    prefetchA, prefetchB, span);
        } catch (Throwable e) {
            throw new IllegalStateException(name, e);
        }
    }

    /**
     * Rows {@code [from, to)} of the matrix at native address {@code base} ({@code rowBytes} apart) times x,
     * row r to {@code out[outOffset + r]}: the passes of {@link #dot8} (adjacent rows, prefetching the next pass),
     * then the rest row by row, in one call (one downcall per eight rows cost 10-20 % of the rate).
     */
    void rows(long base, long rowBytes, int from, int to, int blocks, float[] x, int xOffset, float[] out, int outOffset) {
        try {
            rowsCall.invokeExact(base, rowBytes, from, to, blocks, MemorySegment.ofArray(x), xOffset, MemorySegment.ofArray(out), outOffset);
        } catch (Throwable e) {
            throw new IllegalStateException(name, e);
        }
    }
}
