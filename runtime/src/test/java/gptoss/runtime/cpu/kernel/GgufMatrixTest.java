package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.F16Tensor;
import gptoss.model.tensor.FloatTensor;
import gptoss.model.tensor.GgmlMxfp4Tensor;
import gptoss.model.tensor.InterleavedRowsTensor;
import gptoss.model.tensor.Q8_0Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GGUF formats' vector kernels (Q8_0, F16, ggml MXFP4, paired gate/up rows) against the element-by-element reference. */
class GgufMatrixTest {
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static FloatTensor tensor(String format, Arena arena, long elements, SplittableRandom random) {
        return switch (format) {
            case "q8_0" -> {
                MemorySegment s = arena.allocate(elements / 32 * 34, 64);
                for (long b = 0; b < elements / 32; b++) {
                    s.set(LE16, b * 34, Float.floatToFloat16((float) (0.001 + random.nextDouble() * 0.05)));
                    for (int i = 0; i < 32; i++) s.set(ValueLayout.JAVA_BYTE, b * 34 + 2 + i, (byte) random.nextInt(256));
                }
                yield new Q8_0Tensor(s);
            }
            case "f16" -> {
                MemorySegment s = arena.allocate(elements * 2, 64);
                for (long i = 0; i < elements; i++) {
                    // Mostly normal values, some subnormal halves, both signs.
                    float v = (float) (random.nextGaussian() * (random.nextInt(8) == 0 ? 1e-6 : 1.0));
                    s.set(LE16, 2 * i, Float.floatToFloat16(v));
                }
                yield new F16Tensor(s);
            }
            case "mxfp4" -> {
                MemorySegment s = arena.allocate(elements / 32 * 17, 64);
                for (long b = 0; b < elements / 32; b++) {
                    s.set(ValueLayout.JAVA_BYTE, b * 17, (byte) random.nextInt(118, 131));
                    for (int i = 1; i < 17; i++) s.set(ValueLayout.JAVA_BYTE, b * 17 + i, (byte) random.nextInt(256));
                }
                yield new GgmlMxfp4Tensor(s);
            }
            default -> throw new IllegalArgumentException(format);
        };
    }

    private static float absSum(FloatTensor t, long first, float[] x, int cols) {
        float s = 0;
        for (int k = 0; k < cols; k++) s += Math.abs(t.getFloat(first + k) * x[k]);
        return s;
    }

    @ParameterizedTest
    @CsvSource({"q8_0,11,2880", "q8_0,9,96", "q8_0,3,32", "f16,11,2880", "f16,9,100", "f16,3,7", "mxfp4,9,2880", "mxfp4,5,96", "mxfp4,3,32"})
    void dotDot8AndDotRowsMatchScalarReference(String format, int rows, int cols) {
        SplittableRandom random = new SplittableRandom(rows * 31L + cols);
        try (Arena arena = Arena.ofConfined()) {
            long offset = 2L * cols; // a matrix inside a larger tensor
            FloatTensor t = tensor(format, arena, offset + (long) rows * cols + 64, random);
            WeightMatrix m = WeightMatrix.of(t, offset, rows, cols);
            assertEquals(Lanes.FAST, !(m instanceof GenericMatrix), m + " on " + Lanes.describe());
            float[] x = RandomTensors.gaussian(cols, random);
            float[] arranged = new float[m.dotLayout().length(cols)];
            m.dotLayout().arrange(x, 0, cols, arranged, 0);
            float[] all = new float[rows];
            m.dotRows(0, rows, arranged, 0, all, 0, new float[WeightMatrix.PASS_ROWS]);
            for (int r = 0; r < rows; r++) {
                float expected = m.dotScalar(r, x, 0);
                float tolerance = RandomTensors.sumTolerance(absSum(t, offset + (long) r * cols, x, cols), cols);
                assertEquals(expected, m.dot(r, arranged, 0), tolerance, format + " row " + r);
                assertEquals(expected, all[r], tolerance, format + " dotRows row " + r);
                if (r + WeightMatrix.PASS_ROWS <= rows) {
                    float[] pass = new float[WeightMatrix.PASS_ROWS + 1];
                    m.dot8(r, arranged, 0, pass, 1);
                    assertEquals(expected, pass[1], tolerance, format + " dot8 row " + r);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"q8_0,3,2880", "q8_0,2,64", "f16,3,100", "mxfp4,2,2880"})
    void dot8WithStrideComputesRowsSpreadOverAChunk(String format, int stride, int cols) {
        int rows = WeightMatrix.PASS_ROWS * stride + 1;
        SplittableRandom random = new SplittableRandom(stride * 7L + cols);
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor t = tensor(format, arena, (long) rows * cols, random);
            WeightMatrix m = WeightMatrix.of(t, 0, rows, cols);
            float[] x = RandomTensors.gaussian(cols, random);
            float[] arranged = new float[m.dotLayout().length(cols)];
            m.dotLayout().arrange(x, 0, cols, arranged, 0);
            for (int first = 0; first <= 1; first++) {
                float[] pass = new float[WeightMatrix.PASS_ROWS];
                m.dot8(first, stride, arranged, 0, pass, 0);
                for (int i = 0; i < WeightMatrix.PASS_ROWS; i++) {
                    int r = first + i * stride;
                    float tolerance = RandomTensors.sumTolerance(absSum(t, (long) r * cols, x, cols), cols);
                    assertEquals(m.dotScalar(r, x, 0), pass[i], tolerance, format + " row " + r);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"q8_0,5,2880", "q8_0,2,32", "f16,5,2880", "f16,2,100", "mxfp4,5,2880", "mxfp4,3,96"})
    void decodeIsExactInDecodeLayout(String format, int rows, int cols) {
        SplittableRandom random = new SplittableRandom(7);
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor t = tensor(format, arena, (long) (rows + 1) * cols, random);
            WeightMatrix m = WeightMatrix.of(t, cols, rows, cols);
            float[] decoded = new float[rows * cols];
            m.decode(0, rows, decoded, 0);
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < cols; k++) {
                    float expected = t.getFloat((long) (r + 1) * cols + k);
                    float actual = decoded[r * cols + m.decodeLayout().positionOf(k, cols)];
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual), format + " row " + r + " element " + k);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"q8_0,2880,0,512", "q8_0,2880,2560,320", "q8_0,96,32,64", "f16,2880,512,512", "f16,100,64,36",
            "f16,100,0,32", "mxfp4,2880,2048,832", "mxfp4,96,32,32", "paired,2880,512,512"})
    void columnRangeDecodeIsTheSameColumnsOfTheWholeRows(String format, int cols, int col, int n) {
        SplittableRandom random = new SplittableRandom(cols + col);
        try (Arena arena = Arena.ofConfined()) {
            int rows = 6;
            WeightMatrix m = format.equals("paired")
                    ? WeightMatrix.of(new InterleavedRowsTensor(tensor("mxfp4", arena, (long) rows * cols, random),
                            tensor("mxfp4", arena, (long) rows * cols, random), cols), 0, 2 * rows, cols)
                    : WeightMatrix.of(tensor(format, arena, (long) (rows + 1) * cols, random), cols, rows, cols);
            int count = m.rows() - 1;
            float[] whole = new float[count * cols];
            m.decode(1, count, whole, 0);
            int stride = n + 5;
            float[] part = new float[3 + count * stride];
            m.decode(1, count, col, n, part, 3, stride);
            for (int r = 0; r < count; r++) {
                for (int k = 0; k < n; k++) {
                    assertEquals(whole[r * cols + col + k], part[3 + r * stride + k], 0f, format + " row " + r + " column " + (col + k));
                }
            }
        }
    }

    @Test
    void f16KernelDecodesEveryFiniteHalfExactly() {
        try (Arena arena = Arena.ofConfined()) {
            int n = 1 << 16;
            MemorySegment s = arena.allocate(2L * n, 64);
            for (int i = 0; i < n; i++) s.set(LE16, 2L * i, (short) i);
            WeightMatrix m = WeightMatrix.of(new F16Tensor(s), 0, n / 256, 256);
            float[] decoded = new float[n];
            m.decode(0, n / 256, decoded, 0);
            for (int i = 0; i < n; i++) {
                if ((i & 0x7C00) == 0x7C00) continue; // infinities and NaNs: not weights (see F16Matrix)
                int row = i / 256, k = i % 256;
                float actual = decoded[row * 256 + m.decodeLayout().positionOf(k, 256)];
                assertEquals(Float.floatToRawIntBits(Float.float16ToFloat((short) i)), Float.floatToRawIntBits(actual), String.format("half 0x%04x", i));
            }
        }
    }

    @Test
    void pairedRowsInterleaveGateAndUp() {
        SplittableRandom random = new SplittableRandom(3);
        try (Arena arena = Arena.ofConfined()) {
            int experts = 3, rows = 10, cols = 96;
            FloatTensor gate = tensor("mxfp4", arena, (long) experts * rows * cols, random);
            FloatTensor up = tensor("mxfp4", arena, (long) experts * rows * cols, random);
            InterleavedRowsTensor both = new InterleavedRowsTensor(gate, up, cols);
            WeightMatrix m = WeightMatrix.of(both, 2L * 2 * rows * cols, 2 * rows, cols); // expert 2
            assertTrue(m instanceof PairedRowsMatrix, m.toString());
            float[] x = RandomTensors.gaussian(cols, random);
            float[] arranged = new float[m.dotLayout().length(cols)];
            m.dotLayout().arrange(x, 0, cols, arranged, 0);
            float[] out = new float[2 * rows];
            m.dotRows(0, 2 * rows, arranged, 0, out, 0, new float[WeightMatrix.PASS_ROWS]);
            float[] decoded = new float[2 * rows * cols];
            m.decode(0, 2 * rows, decoded, 0);
            for (int r = 0; r < 2 * rows; r++) {
                FloatTensor source = r % 2 == 0 ? gate : up;
                long first = (2L * rows + r / 2) * cols;
                float expected = source.dotScalar(first, x, 0, cols);
                assertEquals(expected, out[r], RandomTensors.sumTolerance(absSum(source, first, x, cols), cols), "row " + r);
                for (int k = 0; k < cols; k++) {
                    assertEquals(source.getFloat(first + k), decoded[r * cols + m.decodeLayout().positionOf(k, cols)], 0f, "row " + r + " element " + k);
                }
            }
        }
    }
}
