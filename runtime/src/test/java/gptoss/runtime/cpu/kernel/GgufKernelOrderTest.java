package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.F16Tensor;
import gptoss.model.tensor.FloatTensor;
import gptoss.model.tensor.GgmlMxfp4Tensor;
import gptoss.model.tensor.Q8_0Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GGUF formats' matrix-vector kernels (Q8_0, ggml MXFP4, F16; Java and, where built, native) give exactly the
 * bits of a scalar reference of the package's summation order: each weight decoded by the tensor's
 * {@link FloatTensor#getFloat}, element at layout position p to lane p mod L by {@link Math#fma}, in increasing
 * p, then {@link Lanes#sum(float[], int)}. Bit for bit, not within a tolerance.
 */
class GgufKernelOrderTest {

    /** The documented order, element by element (layouts without padding: natural and split). */
    static float reference(FloatTensor t, long first, int cols, VectorLayout layout, float[] x, int xOffset) {
        int L = Lanes.L;
        float[] w = new float[cols], xs = new float[cols];
        for (int k = 0; k < cols; k++) {
            int p = layout.positionOf(k, cols);
            w[p] = t.getFloat(first + k);
            xs[p] = x[xOffset + k];
        }
        float[] lanes = new float[L];
        for (int p = 0; p < cols; p++) lanes[p % L] = Math.fma(w[p], xs[p], lanes[p % L]);
        return Lanes.sum(lanes, 0);
    }

    private static void assertSameBits(float expected, float actual, String what) {
        // floatToIntBits: every NaN is one NaN (a NaN's payload is not part of the order)
        assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(actual), what + ": expected " + expected + ", got " + actual);
    }

    /** The Java kernels always, the native ones where they loaded. */
    static List<WeightMatrix> kernels(FloatTensor t, long offset, int rows, int cols) {
        List<WeightMatrix> list = new ArrayList<>();
        WeightMatrix m = WeightMatrix.of(t, offset, rows, cols);
        switch (m) {
            case Q8_0Matrix q -> {
                list.add(q.javaKernels());
                if (q.isNative()) list.add(q);
            }
            case GgmlMxfp4Matrix g -> {
                list.add(g.javaKernels());
                if (g.isNative()) list.add(g);
            }
            default -> list.add(m);
        }
        return list;
    }

    private static String name(WeightMatrix m) {
        boolean nat = m instanceof GgmlBlockMatrix g && g.isNative();
        return m + (nat ? " native" : " java");
    }

    /** Random blocks; for "mxfp4-edges" every scale byte, 0 and 255 included, and extreme Q8_0 scales. */
    static FloatTensor tensor(String format, Arena arena, long elements, SplittableRandom random) {
        if (format.equals("mxfp4-edges")) {
            MemorySegment s = arena.allocate(elements / 32 * 17, 64);
            for (long b = 0; b < elements / 32; b++) {
                s.set(ValueLayout.JAVA_BYTE, b * 17, (byte) (b % 3 == 0 ? random.nextInt(256) : random.nextInt(110, 140)));
                for (int i = 1; i < 17; i++) s.set(ValueLayout.JAVA_BYTE, b * 17 + i, (byte) random.nextInt(256));
            }
            return new GgmlMxfp4Tensor(s);
        }
        return GgufMatrixTest.tensor(format, arena, elements, random);
    }

    @ParameterizedTest
    @CsvSource({"q8_0,19,2880", "q8_0,9,96", "q8_0,3,32", "mxfp4,19,2880", "mxfp4,9,64", "mxfp4,2,32",
            "mxfp4-edges,17,2880", "f16,11,2880", "f16,9,100", "f16,3,7"})
    void dotDot8AndDotRowsGiveTheBitsOfTheDocumentedOrder(String format, int rows, int cols) {
        SplittableRandom random = new SplittableRandom(rows * 131L + cols);
        try (Arena arena = Arena.ofConfined()) {
            long offset = 2L * cols; // a matrix inside a larger tensor
            FloatTensor t = tensor(format, arena, offset + (long) rows * cols + 64, random);
            float[] x = RandomTensors.gaussian(cols, random);
            for (WeightMatrix m : kernels(t, offset, rows, cols)) {
                VectorLayout layout = m.dotLayout();
                float[] arranged = new float[layout.length(cols) + 3];
                layout.arrange(x, 0, cols, arranged, 3);
                float[] expected = new float[rows];
                for (int r = 0; r < rows; r++) expected[r] = reference(t, offset + (long) r * cols, cols, layout, x, 0);
                float[] all = new float[rows + 1];
                m.dotRows(0, rows, arranged, 3, all, 1, new float[WeightMatrix.PASS_ROWS]);
                float[] part = new float[rows + 1];
                m.dotRows(1, rows, arranged, 3, part, 1, new float[WeightMatrix.PASS_ROWS]); // a range not from 0
                for (int r = 0; r < rows; r++) {
                    assertSameBits(expected[r], m.dot(r, arranged, 3), name(m) + " dot row " + r);
                    assertSameBits(expected[r], all[r + 1], name(m) + " dotRows row " + r);
                    if (r >= 1) assertSameBits(expected[r], part[r + 1], name(m) + " dotRows from 1, row " + r);
                }
                for (int stride = 1; stride <= 2; stride++) {
                    for (int first = 0; first + (WeightMatrix.PASS_ROWS - 1) * stride < rows; first += 3) {
                        float[] pass = new float[WeightMatrix.PASS_ROWS + 2];
                        m.dot8(first, stride, arranged, 3, pass, 2);
                        for (int i = 0; i < WeightMatrix.PASS_ROWS; i++) {
                            assertSameBits(expected[first + i * stride], pass[2 + i], name(m) + " dot8 stride " + stride + " row " + (first + i * stride));
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"q8_0,2880", "q8_0,64", "mxfp4,2880", "mxfp4,96"})
    void pairedGateAndUpRowsGiveTheBitsOfTheDocumentedOrder(String format, int cols) {
        SplittableRandom random = new SplittableRandom(cols + 5);
        try (Arena arena = Arena.ofConfined()) {
            int experts = 3, rows = 12;
            FloatTensor gate = tensor(format, arena, (long) experts * rows * cols, random);
            FloatTensor up = tensor(format, arena, (long) experts * rows * cols, random);
            float[] x = RandomTensors.gaussian(cols, random);
            List<WeightMatrix> gates = kernels(gate, 0, experts * rows, cols), ups = kernels(up, 0, experts * rows, cols);
            for (int k = 0; k < gates.size(); k++) {
                WeightMatrix m = new PairedRowsMatrix(gates.get(k), ups.get(k));
                long expertOffset = 2L * rows * cols; // expert 2's rows are 24 .. 35 of each
                float[] pass = new float[WeightMatrix.PASS_ROWS];
                for (int row = 0; row + WeightMatrix.PASS_ROWS <= 2 * rows; row += 2) {
                    m.dot8(2 * 2 * rows + row, x, 0, pass, 0);
                    for (int i = 0; i < WeightMatrix.PASS_ROWS; i++) {
                        int r = row + i;
                        FloatTensor source = r % 2 == 0 ? gate : up;
                        float expected = reference(source, expertOffset + (long) (r / 2) * cols, cols, VectorLayout.NATURAL, x, 0);
                        assertSameBits(expected, pass[i], name(gates.get(k)) + " paired row " + r);
                        assertSameBits(expected, m.dot(2 * 2 * rows + r, x, 0), name(gates.get(k)) + " paired dot row " + r);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"q8_0,4,2880", "mxfp4,4,2880", "mxfp4-edges,5,320"})
    void decodedPanelsHoldTheWeightsDotUsesInItsLayout(String format, int rows, int cols) {
        SplittableRandom random = new SplittableRandom(11);
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor t = tensor(format, arena, (long) (rows + 1) * cols, random);
            for (WeightMatrix m : kernels(t, cols, rows, cols)) {
                assertEquals(m.dotLayout(), m.decodeLayout(), name(m));
                float[] decoded = new float[rows * cols];
                m.decode(0, rows, decoded, 0);
                for (int r = 0; r < rows; r++) {
                    for (int k = 0; k < cols; k++) {
                        assertEquals(Float.floatToRawIntBits(t.getFloat((long) (r + 1) * cols + k)),
                                Float.floatToRawIntBits(decoded[r * cols + m.decodeLayout().positionOf(k, cols)]), name(m) + " row " + r + " element " + k);
                    }
                }
            }
        }
    }

    @Test
    void theNativeKernelsRunWhereBuiltOnAvx512() throws IOException {
        boolean built = NativeKernels.class.getResource("native/" + NativeKernels.LIBRARY) != null;
        boolean avx512 = Files.exists(Path.of("/proc/cpuinfo")) && Files.readString(Path.of("/proc/cpuinfo")).contains(" avx512f ");
        boolean javaOnly = "java".equals(System.getProperty(NativeKernels.PROPERTY));
        assertEquals(built && avx512 && Lanes.L == 16 && !javaOnly, GgmlKernels.enabled(), GgmlKernels.describe());
        assertTrue(Lanes.describe().contains(GgmlKernels.describe()));
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor q = GgufMatrixTest.tensor("q8_0", arena, 8L * 64, new SplittableRandom(1));
            Q8_0Matrix m = (Q8_0Matrix) WeightMatrix.of(q, 8, 64);
            assertEquals(GgmlKernels.enabled(), m.isNative());
            assertFalse(m.javaKernels().isNative());
            // Heap memory has no address for the native kernels: the Java ones run.
            Q8_0Matrix heap = (Q8_0Matrix) WeightMatrix.of(new Q8_0Tensor(MemorySegment.ofArray(new byte[34 * 16])), 8, 64);
            assertFalse(heap.isNative());
        }
    }

    @Test
    void f16ReferenceCoversSplitOrderWithATail() {
        // The reference itself: positions of split order put even elements before odd ones within each chunk.
        int cols = 2 * Lanes.L + 3;
        assertEquals(cols - 1, VectorLayout.SPLIT.positionOf(cols - 1, cols));
        assertEquals(Lanes.L, VectorLayout.SPLIT.positionOf(1, cols));
        try (Arena arena = Arena.ofConfined()) {
            F16Tensor t = (F16Tensor) GgufMatrixTest.tensor("f16", arena, cols, new SplittableRandom(2));
            float[] x = RandomTensors.gaussian(cols, new SplittableRandom(3));
            WeightMatrix m = WeightMatrix.of(t, 1, cols);
            float[] arranged = new float[cols];
            VectorLayout.SPLIT.arrange(x, 0, cols, arranged, 0);
            assertSameBits(reference(t, 0, cols, VectorLayout.SPLIT, x, 0), m.dot(0, arranged, 0), "f16 with tail");
        }
    }
}
