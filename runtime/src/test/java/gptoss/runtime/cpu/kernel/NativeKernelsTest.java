package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.Mxfp4Tensor;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native MXFP4 kernel and the Java Vector API kernel (its fallback) against the same expectations: the
 * element-by-element reference, and each other. The Java kernel runs in every build; the native one wherever the
 * build compiled it (then it must also be the one {@link WeightMatrix#of} picks, unless {@code gptoss.kernels=java},
 * under which the runtime module's second test run repeats the golden and parity tests).
 */
class NativeKernelsTest {

    /** The kernels to check: the Java one always, the native one where it loaded. */
    private static List<Mxfp4Matrix> kernels(Mxfp4Tensor t, long offset, int rows, int cols) {
        List<Mxfp4Matrix> list = new ArrayList<>();
        list.add(new Mxfp4Matrix(t, offset, rows, cols, false));
        if (NativeKernels.available()) list.add(new Mxfp4Matrix(t, offset, rows, cols, true));
        return list;
    }

    @Test
    void theNativeKernelRunsWhereItWasBuiltAndTheCpuHasTheInstructions() throws IOException {
        boolean built = NativeKernels.class.getResource("native/" + NativeKernels.LIBRARY) != null;
        String flags = cpuFlags();
        boolean cpu = Lanes.L == 16 && flags.contains(" avx512f ");
        boolean javaOnly = "java".equals(System.getProperty(NativeKernels.PROPERTY));
        assertEquals(built && cpu && !javaOnly, NativeKernels.available(), NativeKernels.describe());
        assertTrue(Lanes.describe().contains(NativeKernels.describe()));
        if (NativeKernels.available()) {
            try (Arena arena = Arena.ofConfined()) {
                Mxfp4Tensor t = RandomTensors.mxfp4(arena, 8L * 2880, new SplittableRandom(1));
                assertTrue(((Mxfp4Matrix) WeightMatrix.of(t, 8, 2880)).isNative());
                assertFalse(((Mxfp4Matrix) WeightMatrix.javaKernels(t, 0, 8, 2880)).isNative());
                var b = RandomTensors.bf16(arena, 8L * 2880, new SplittableRandom(2));
                assertTrue(((Bf16Matrix) WeightMatrix.of(b, 8, 2880)).isNative());
                assertFalse(((Bf16Matrix) WeightMatrix.javaKernels(b, 0, 8, 2880)).isNative());
            }
        }
    }

    private static String cpuFlags() throws IOException {
        Path info = Path.of("/proc/cpuinfo");
        if (!Files.exists(info)) return " ";
        for (String line : Files.readAllLines(info)) {
            if (line.startsWith("flags")) return " " + line.substring(line.indexOf(':') + 1).trim() + " ";
        }
        return " ";
    }

    @ParameterizedTest
    @CsvSource({"17,2880", "9,4096", "5,160", "5,224", "3,128"})
    void bothKernelsMatchTheScalarReference(int rows, int cols) {
        SplittableRandom random = new SplittableRandom(rows * 131L + cols);
        try (Arena arena = Arena.ofConfined()) {
            long offset = 3L * cols; // a matrix inside a larger tensor, as an expert's slice of mlp1
            Mxfp4Tensor t = RandomTensors.mxfp4(arena, offset + (long) rows * cols + 64, random);
            float[] x = RandomTensors.gaussian(cols, random);
            float[] arranged = new float[VectorLayout.SPLIT.length(cols)];
            VectorLayout.SPLIT.arrange(x, 0, cols, arranged, 0);
            float[] padded = new float[arranged.length + 5];          // x at an offset inside a larger array
            System.arraycopy(arranged, 0, padded, 5, arranged.length);
            float[][] results = new float[2][rows];
            float[] tolerances = new float[rows];
            for (int r = 0; r < rows; r++) {
                float absSum = 0;
                for (int c = 0; c < cols; c++) absSum += Math.abs(t.getFloat(offset + (long) r * cols + c) * x[c]);
                tolerances[r] = RandomTensors.sumTolerance(absSum, cols);
            }
            List<Mxfp4Matrix> kernels = Lanes.FAST ? kernels(t, offset, rows, cols) : List.of();
            for (int k = 0; k < kernels.size(); k++) {
                Mxfp4Matrix m = kernels.get(k);
                String name = m.isNative() ? "native" : "java";
                for (int r = 0; r < rows; r++) {
                    float tolerance = tolerances[r];
                    float expected = m.dotScalar(r, x, 0);
                    results[k][r] = m.dot(r, padded, 5);
                    assertEquals(expected, results[k][r], tolerance, name + " dot row " + r);
                    if (r + WeightMatrix.PASS_ROWS <= rows) {
                        float[] pass = new float[WeightMatrix.PASS_ROWS + 2];
                        m.dot8(r, 1, padded, 5, pass, 2);
                        assertEquals(expected, pass[2], tolerance, name + " dot8 row " + r);
                        assertEquals(results[k][r], pass[2], 0f, name + ": dot and dot8 compute the same sum");
                    }
                    if (r + 2 * (WeightMatrix.PASS_ROWS - 1) < rows) {
                        float[] pass = new float[WeightMatrix.PASS_ROWS];
                        m.dot8(r, 2, padded, 5, pass, 0);
                        for (int i = 0; i < WeightMatrix.PASS_ROWS; i++) {
                            assertEquals(m.dotScalar(r + 2 * i, x, 0), pass[i], tolerances[r + 2 * i], name + " strided dot8 row " + (r + 2 * i));
                        }
                    }
                }
            }
            if (kernels.size() == 2) {
                // Same products in the same order: the same bits (DecodeKernelOrderTest checks every path against the order).
                for (int r = 0; r < rows; r++) assertEquals(Float.floatToRawIntBits(results[0][r]), Float.floatToRawIntBits(results[1][r]), "native against java, row " + r);
            }
        }
    }

    @Test
    void bothKernelsDecodeTheSpecialScaleBytesAlike() {
        assumeTrue(Lanes.FAST);
        int cols = 2880, rows = 1;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment codes = arena.allocate(cols / 2, 64), scales = arena.allocate(cols / 32, 64);
            for (int i = 0; i < cols / 2; i++) codes.set(ValueLayout.JAVA_BYTE, i, (byte) 0x21); // 0.5 (low), 1.0 (high)
            for (int b = 0; b < cols / 32; b++) scales.set(ValueLayout.JAVA_BYTE, b, (byte) 127);
            Mxfp4Tensor t = new Mxfp4Tensor(codes, scales);
            float[] x = new float[cols];
            java.util.Arrays.fill(x, 1f);
            float[] arranged = new float[VectorLayout.SPLIT.length(cols)];
            VectorLayout.SPLIT.arrange(x, 0, cols, arranged, 0);
            for (Mxfp4Matrix m : kernels(t, 0, rows, cols)) {
                scales.set(ValueLayout.JAVA_BYTE, 0, (byte) 127);
                assertEquals(cols / 2 * 1.5f, m.dot(0, arranged, 0), 0f, "hand-computed: 1440 pairs of 0.5 + 1.0");
                scales.set(ValueLayout.JAVA_BYTE, 0, (byte) 128);      // block 0 doubled
                assertEquals(cols / 2 * 1.5f + 24f, m.dot(0, arranged, 0), 0f);
                scales.set(ValueLayout.JAVA_BYTE, 0, (byte) 0);        // E8M0 byte 0 decodes as 0 in both kernels
                assertEquals(cols / 2 * 1.5f - 24f, m.dot(0, arranged, 0), 0f);
                scales.set(ValueLayout.JAVA_BYTE, 0, (byte) 255);      // and 255 as +∞
                assertEquals(Float.POSITIVE_INFINITY, m.dot(0, arranged, 0));
            }
        }
    }

    @Test
    void bothKernelsRejectActivationsOrRowsOutOfRange() {
        assumeTrue(Lanes.FAST);
        int cols = 2880, rows = 8;
        try (Arena arena = Arena.ofConfined()) {
            Mxfp4Tensor t = RandomTensors.mxfp4(arena, (long) rows * cols, new SplittableRandom(3));
            float[] shortX = new float[cols - 16], out = new float[WeightMatrix.PASS_ROWS];
            float[] x = new float[VectorLayout.SPLIT.length(cols)];
            for (Mxfp4Matrix m : kernels(t, 0, rows, cols)) {
                assertThrows(IndexOutOfBoundsException.class, () -> m.dot(0, shortX, 0));
                assertThrows(IndexOutOfBoundsException.class, () -> m.dot8(0, 1, shortX, 0, out, 0));
                assertThrows(IndexOutOfBoundsException.class, () -> m.dot8(0, 1, x, 0, out, 1));
                if (m.isNative()) { // the Java kernel reads whatever the tensor holds beyond the matrix; the native one checks
                    assertThrows(IndexOutOfBoundsException.class, () -> m.dot(rows, x, 0));
                    assertThrows(IndexOutOfBoundsException.class, () -> m.dot8(1, 1, x, 0, out, 0));
                }
            }
        }
    }
}
