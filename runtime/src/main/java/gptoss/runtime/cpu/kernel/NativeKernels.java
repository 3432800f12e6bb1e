package gptoss.runtime.cpu.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Map;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native single-row (decode) kernels for MXFP4 and BF16 ({@code runtime/src/main/c/gptoss_kernels.c},
 * AVX-512), called through the FFM API. The Maven build compiles them where a C compiler exists and puts the
 * library next to this class; without it, on a CPU without AVX-512, or with {@code -Dgptoss.kernels=java} (or
 * {@code GPTOSS_KERNELS=java}), the Java Vector API kernels run. Both follow the package's summation order with
 * the activations in {@link VectorLayout#SPLIT} order, so they give the same bits.
 * <p>
 * Why native: C2 compiles the Java MXFP4 kernel with an index-wrapping {@code vpandd} per lookup and per-row
 * overheads; the C kernel runs eight rows side by side at about 30 vector instructions per 128 weights and row
 * (README, Performance (CPU)).
 * <p>
 * Calls are "critical" downcalls: no thread-state transition, and the heap arrays (activations, results) are
 * passed directly. A call does at most one claim of a thread's rows (at most 1 MiB of weights, tens of µs), so it
 * never holds a safepoint long.
 */
final class NativeKernels {
    /** System property (and, upper-cased with {@code _}, environment variable) choosing the kernels: {@code java} or {@code auto}. */
    static final String PROPERTY = "gptoss.kernels";
    static final String LIBRARY = "libgptoss_kernels.so";

    private static final NativeBinding BINDING = NativeBinding.bind("Java kernels", "native MXFP4/BF16 decode kernels (AVX-512)", null,
            "gptoss_kernels_lanes", Map.of(
                    "gptoss_mxfp4_dot", FunctionDescriptor.of(JAVA_FLOAT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT),
                    "gptoss_bf16_dot", FunctionDescriptor.of(JAVA_FLOAT, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT),
                    "gptoss_mxfp4_rows", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
                    "gptoss_mxfp4_rows8", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
                    "gptoss_bf16_rows", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
                    "gptoss_bf16_rows8", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT)));
    private static final MethodHandle MXFP4_DOT = BINDING.handle("gptoss_mxfp4_dot"), BF16_DOT = BINDING.handle("gptoss_bf16_dot"),
            MXFP4_ROWS = BINDING.handle("gptoss_mxfp4_rows"), MXFP4_ROWS8 = BINDING.handle("gptoss_mxfp4_rows8"),
            BF16_ROWS = BINDING.handle("gptoss_bf16_rows"), BF16_ROWS8 = BINDING.handle("gptoss_bf16_rows8");
    private static final boolean AVAILABLE = BINDING.available();
    private static final String STATUS = BINDING.status();

    private NativeKernels() {
    }

    /** Whether {@code -Dgptoss.kernels=java} (or {@code GPTOSS_KERNELS=java}) asks for the Java kernels only. */
    static boolean javaChosen() {
        return System.getProperty(PROPERTY, System.getenv().getOrDefault("GPTOSS_KERNELS", "auto")).toLowerCase(Locale.ROOT).equals("java");
    }

    /**
     * The native library, loaded once for every binding ({@link GgmlKernels} too): the one packaged next to this
     * class, or, for kernel experiments, the file named by {@code -Dgptoss.kernels.library}; null if none is
     * packaged. Throws what loading it threw, on every call.
     */
    static SymbolLookup library() {
        if (Library.ERROR != null) throw new IllegalStateException(Library.ERROR.toString(), Library.ERROR);
        return Library.LOOKUP;
    }

    /** Holder: the library is opened on first use only, so {@code -Dgptoss.kernels=java} never opens it. */
    private static final class Library {
        static final SymbolLookup LOOKUP;
        static final Throwable ERROR;

        static {
            SymbolLookup lookup = null;
            Throwable error = null;
            try {
                lookup = load();
            } catch (Throwable e) {
                error = e;
            }
            LOOKUP = lookup;
            ERROR = error;
        }

        private static SymbolLookup load() throws IOException {
            String file0 = System.getProperty(PROPERTY + ".library");
            if (file0 != null) return SymbolLookup.libraryLookup(Path.of(file0), Arena.global());
            try (InputStream in = NativeKernels.class.getResourceAsStream("native/" + LIBRARY)) {
                if (in == null) return null;
                Path file = Files.createTempFile("gptoss_kernels", ".so");
                try {
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                    return SymbolLookup.libraryLookup(file, Arena.global());
                } finally {
                    Files.deleteIfExists(file); // the loaded library stays mapped
                }
            }
        }
    }

    /** Whether the native MXFP4 and BF16 decode kernels run. */
    static boolean available() {
        return AVAILABLE;
    }

    /** Which kernels run, for logs: e.g. "native MXFP4/BF16 decode kernels (AVX-512)". */
    public static String describe() {
        return STATUS;
    }

    /** One MXFP4 row (blocks from {@code block}) times x (SPLIT order) from {@code xOffset}. */
    static float mxfp4Dot(long blocks, long scales, long block, int blocksPerRow, float[] x, int xOffset) {
        try {
            return (float) MXFP4_DOT.invokeExact(blocks, scales, block, blocksPerRow, MemorySegment.ofArray(x), xOffset);
        } catch (Throwable e) {
            throw new IllegalStateException("native MXFP4 kernel", e);
        }
    }

    /** One BF16 row (k elements from element {@code first}) times x (SPLIT order) from {@code xOffset}. */
    static float bf16Dot(long data, long first, int k, float[] x, int xOffset) {
        try {
            return (float) BF16_DOT.invokeExact(data, first, k, MemorySegment.ofArray(x), xOffset);
        } catch (Throwable e) {
            throw new IllegalStateException("native BF16 kernel", e);
        }
    }

    /**
     * MXFP4 rows [from, to) (row r: blocks from {@code firstBlock + r·blocksPerRow}) times x (SPLIT order, from
     * {@code xOffset}) to {@code out[outOffset + r]}. The caller checks every index.
     */
    static void mxfp4Rows(long blocks, long scales, long firstBlock, int blocksPerRow, float[] x, int xOffset, int from, int to, float[] out, int outOffset) {
        try {
            MXFP4_ROWS.invokeExact(blocks, scales, firstBlock, blocksPerRow, MemorySegment.ofArray(x), xOffset, from, to, MemorySegment.ofArray(out), outOffset);
        } catch (Throwable e) {
            throw new IllegalStateException("native MXFP4 kernel", e);
        }
    }

    /** MXFP4 rows {@code row + i·stride} (i < 8) times x to {@code out[outOffset + i]}. */
    static void mxfp4Rows8(long blocks, long scales, long firstBlock, int blocksPerRow, float[] x, int xOffset, int row, int stride, float[] out, int outOffset) {
        try {
            MXFP4_ROWS8.invokeExact(blocks, scales, firstBlock, blocksPerRow, MemorySegment.ofArray(x), xOffset, row, stride, MemorySegment.ofArray(out), outOffset);
        } catch (Throwable e) {
            throw new IllegalStateException("native MXFP4 kernel", e);
        }
    }

    /** BF16 rows [from, to) (row r: k elements from element {@code first + r·k}) times x, as {@link #mxfp4Rows}. */
    static void bf16Rows(long data, long first, int k, float[] x, int xOffset, int from, int to, float[] out, int outOffset) {
        try {
            BF16_ROWS.invokeExact(data, first, k, MemorySegment.ofArray(x), xOffset, from, to, MemorySegment.ofArray(out), outOffset);
        } catch (Throwable e) {
            throw new IllegalStateException("native BF16 kernel", e);
        }
    }

    /** BF16 rows {@code row + i·stride} (i < 8) times x to {@code out[outOffset + i]}. */
    static void bf16Rows8(long data, long first, int k, float[] x, int xOffset, int row, int stride, float[] out, int outOffset) {
        try {
            BF16_ROWS8.invokeExact(data, first, k, MemorySegment.ofArray(x), xOffset, row, stride, MemorySegment.ofArray(out), outOffset);
        } catch (Throwable e) {
            throw new IllegalStateException("native BF16 kernel", e);
        }
    }
}
