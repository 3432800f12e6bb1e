package gptoss.runtime.cpu.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native MXFP4 matrix-vector kernel ({@code runtime/src/main/c/gptoss_kernels.c}, AVX-512 or AVX2 chosen at
 * run time), called through the FFM API. The Maven build compiles it where a C compiler exists and puts it next to
 * this class; without it, or with {@code -Dgptoss.kernels=java} (or {@code GPTOSS_KERNELS=java}), the Java Vector
 * API kernels run. Both read the activations in {@link VectorLayout#NIBBLE} order and sum the same fp32 products,
 * so the results agree up to summation order.
 * <p>
 * Why native: C2 compiles the Java kernel to about 47 vector instructions per 128 weights (each {@code selectFrom}
 * lookup gets a {@code vpandd} wrapping its indices, and more), the C kernel to 30; from memory the difference
 * decides how far reads and decoding overlap (README, Performance (CPU)).
 * <p>
 * Calls are "critical" downcalls: no thread-state transition, and the heap arrays (activations, results) are
 * passed directly. Each call does at most eight rows (about 12 KB of weights), so it never holds a safepoint long.
 */
final class NativeKernels {
    /** System property (and, upper-cased with {@code _}, environment variable) choosing the kernels: {@code java} or {@code auto}. */
    static final String PROPERTY = "gptoss.kernels";
    static final String LIBRARY = "libgptoss_kernels.so";

    private static final MethodHandle MXFP4_DOT;
    private static final MethodHandle MXFP4_DOT_ROWS;
    /** Float lanes of the native MXFP4 kernel usable with {@link Lanes#L}, 0 if none. */
    private static final int LANES;
    private static final String STATUS;

    static {
        MethodHandle dot = null, dotRows = null;
        int lanes = 0;
        String status;
        String choice = System.getProperty(PROPERTY, System.getenv().getOrDefault("GPTOSS_KERNELS", "auto")).toLowerCase(Locale.ROOT);
        if (choice.equals("java")) {
            status = "Java kernels (" + PROPERTY + "=java)";
        } else if (!Lanes.FAST) {
            status = "Java kernels (" + Lanes.L + " float lanes)";
        } else {
            try {
                SymbolLookup lib = load();
                if (lib == null) {
                    status = "Java kernels (no native library: the build had no C compiler)";
                } else {
                    Linker linker = Linker.nativeLinker();
                    MethodHandle lanesHandle = linker.downcallHandle(lib.findOrThrow("gptoss_mxfp4_lanes"), FunctionDescriptor.of(JAVA_INT));
                    int cpu = (int) lanesHandle.invokeExact();
                    if (cpu >= Lanes.L) {
                        lanes = Lanes.L;
                        Linker.Option critical = Linker.Option.critical(true);
                        dot = linker.downcallHandle(lib.findOrThrow("gptoss_mxfp4_dot"),
                                FunctionDescriptor.of(JAVA_FLOAT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), critical);
                        dotRows = linker.downcallHandle(lib.findOrThrow("gptoss_mxfp4_dot_rows"),
                                FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                                        JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), critical);
                        status = "native MXFP4 kernel (" + (lanes == 16 ? "AVX-512" : "AVX2") + ")";
                    } else {
                        status = "Java kernels (the native kernel needs " + (Lanes.L == 16 ? "AVX-512" : "AVX2 and FMA") + ")";
                    }
                }
            } catch (Throwable e) {
                dot = dotRows = null;
                lanes = 0;
                status = "Java kernels (native library failed to load: " + e + ")";
            }
        }
        MXFP4_DOT = dot;
        MXFP4_DOT_ROWS = dotRows;
        LANES = lanes;
        STATUS = status;
    }

    private NativeKernels() {
    }

    /** The library packaged next to this class, copied to a temporary file and opened (null if not packaged). */
    private static SymbolLookup load() throws IOException {
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

    /** Whether MXFP4 matrix-vector products run natively. */
    static boolean mxfp4() {
        return LANES != 0;
    }

    /** Which kernels run, for logs: e.g. "native MXFP4 kernel (AVX-512)". */
    public static String describe() {
        return STATUS;
    }

    /** Row of MXFP4 blocks from {@code block} times x (nibble order) from {@code xOffset}. */
    static float mxfp4Dot(long blocks, long scales, long block, int blocksPerRow, float[] x, int xOffset) {
        try {
            return (float) MXFP4_DOT.invokeExact(blocks, scales, block, blocksPerRow, MemorySegment.ofArray(x), xOffset, LANES);
        } catch (Throwable e) {
            throw new IllegalStateException("native MXFP4 kernel", e);
        }
    }

    /** {@code out[outOffset + i]} = row {@code row + i·stride} times x, for i < count. */
    static void mxfp4DotRows(long blocks, long scales, long firstBlock, int blocksPerRow, float[] x, int xOffset,
                             int row, int count, int stride, float[] out, int outOffset) {
        try {
            MXFP4_DOT_ROWS.invokeExact(blocks, scales, firstBlock, blocksPerRow, MemorySegment.ofArray(x), xOffset, LANES,
                    row, count, stride, MemorySegment.ofArray(out), outOffset);
        } catch (Throwable e) {
            throw new IllegalStateException("native MXFP4 kernel", e);
        }
    }
}
