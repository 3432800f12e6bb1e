package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import gptoss.model.tensor.Mxfp4Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The vector kernels against the element-by-element reference ({@link FloatTensor#getFloat}, {@code dotScalar}). */
class WeightMatrixTest {

    static FloatTensor tensor(String format, Arena arena, long elements, SplittableRandom random) {
        return format.equals("bf16") ? RandomTensors.bf16(arena, elements, random) : RandomTensors.mxfp4(arena, elements, random);
    }

    @ParameterizedTest
    @CsvSource({"bf16,11,2880", "bf16,9,4096", "bf16,3,64", "bf16,9,100", "mxfp4,9,2880", "mxfp4,4,4096", "mxfp4,3,160", "mxfp4,3,224", "mxfp4,3,64"})
    void dotMatchesScalarReference(String format, int rows, int cols) {
        SplittableRandom random = new SplittableRandom(rows * 31L + cols);
        try (Arena arena = Arena.ofConfined()) {
            long offset = format.equals("bf16") ? 3L * cols : 2L * cols; // a matrix inside a larger tensor
            FloatTensor t = tensor(format, arena, offset + (long) rows * cols + 64, random);
            WeightMatrix m = WeightMatrix.of(t, offset, rows, cols);
            boolean fastExpected = Lanes.FAST;
            assertEquals(fastExpected, !(m instanceof GenericMatrix), m + " on " + Lanes.describe());
            float[] x = RandomTensors.gaussian(cols, random);
            float[] arranged = new float[m.dotLayout().length(cols)];
            m.dotLayout().arrange(x, 0, cols, arranged, 0);
            for (int r = 0; r < rows; r++) {
                float expected = m.dotScalar(r, x, 0);
                float absSum = 0;
                for (int k = 0; k < cols; k++) absSum += Math.abs(t.getFloat(offset + (long) r * cols + k) * x[k]);
                float actual = m.dot(r, arranged, 0);
                assertEquals(expected, actual, RandomTensors.sumTolerance(absSum, cols), format + " row " + r);
                if (r + WeightMatrix.PASS_ROWS <= rows) {
                    float[] pass = new float[WeightMatrix.PASS_ROWS + 1];
                    m.dot8(r, arranged, 0, pass, 1);
                    assertEquals(expected, pass[1], RandomTensors.sumTolerance(absSum, cols), format + " dot8 row " + r);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"bf16,3,2880", "bf16,5,100", "mxfp4,3,2880"})
    void dot8WithStrideComputesRowsSpreadOverAChunk(String format, int stride, int cols) {
        int rows = WeightMatrix.PASS_ROWS * stride + 1;
        SplittableRandom random = new SplittableRandom(stride * 7L + cols);
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor t = tensor(format, arena, (long) (rows + 1) * cols, random);
            WeightMatrix m = WeightMatrix.of(t, cols, rows, cols);
            float[] x = RandomTensors.gaussian(cols, random);
            float[] arranged = new float[m.dotLayout().length(cols)];
            m.dotLayout().arrange(x, 0, cols, arranged, 0);
            for (int first = 0; first <= 1; first++) {
                float[] pass = new float[WeightMatrix.PASS_ROWS];
                m.dot8(first, stride, arranged, 0, pass, 0);
                for (int i = 0; i < WeightMatrix.PASS_ROWS; i++) {
                    int r = first + i * stride;
                    float absSum = 0;
                    for (int k = 0; k < cols; k++) absSum += Math.abs(t.getFloat(cols + (long) r * cols + k) * x[k]);
                    assertEquals(m.dotScalar(r, x, 0), pass[i], RandomTensors.sumTolerance(absSum, cols), format + " row " + r);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"bf16,3,29,2880", "bf16,0,7,100", "mxfp4,5,30,2880", "bf16,2,42,64"})
    void dotRowsComputesEveryRowOfARangeOnce(String format, int from, int to, int cols) {
        int rows = to + 2;
        SplittableRandom random = new SplittableRandom(from * 13L + to);
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor t = tensor(format, arena, (long) rows * cols, random);
            WeightMatrix m = WeightMatrix.of(t, 0, rows, cols);
            float[] x = RandomTensors.gaussian(cols, random);
            float[] arranged = new float[m.dotLayout().length(cols)];
            m.dotLayout().arrange(x, 0, cols, arranged, 0);
            float[] out = new float[1 + rows];
            java.util.Arrays.fill(out, Float.NaN);
            m.dotRows(from, to, arranged, 0, out, 1, new float[WeightMatrix.PASS_ROWS]);
            for (int r = 0; r < rows; r++) {
                if (r < from || r >= to) {
                    assertTrue(Float.isNaN(out[1 + r]), "row " + r + " outside the range was written");
                    continue;
                }
                float absSum = 0;
                for (int k = 0; k < cols; k++) absSum += Math.abs(t.getFloat((long) r * cols + k) * x[k]);
                assertEquals(m.dotScalar(r, x, 0), out[1 + r], RandomTensors.sumTolerance(absSum, cols), format + " row " + r);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"bf16,5,2880", "bf16,2,100", "mxfp4,5,2880", "mxfp4,3,64"})
    void decodeIsExactInDecodeLayout(String format, int rows, int cols) {
        SplittableRandom random = new SplittableRandom(7);
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor t = tensor(format, arena, (long) (rows + 1) * cols, random);
            WeightMatrix m = WeightMatrix.of(t, cols, rows, cols);
            int n = m.decodedLength();
            float[] decoded = new float[rows * n];
            m.decode(0, rows, decoded, 0);
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < cols; k++) {
                    float expected = t.getFloat((long) (r + 1) * cols + k);
                    assertEquals(expected, decoded[r * n + m.decodeLayout().positionOf(k, cols)], 0f, "row " + r + " element " + k);
                }
            }
        }
    }

    @Test
    void mxfp4NibbleOrderScaleAndSignsFollowTheSpec() {
        // A row of 5 blocks (with 512-bit vectors: one whole group of 4 and an overlapping last group). The last
        // block: byte j holds code j (low nibble, element 2j) and code 15 − j (high nibble, element 2j+1), scale
        // byte 127 + 3 (×8). The other blocks hold code 1 (0.5) everywhere with scale 1, weight that nobody reads
        // unless an index or the overlap is wrong.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment codes = arena.allocate(5 * 16), scales = arena.allocate(5);
            for (int b = 0; b < 4; b++) {
                scales.set(ValueLayout.JAVA_BYTE, b, (byte) 127);
                for (int j = 0; j < 16; j++) codes.set(ValueLayout.JAVA_BYTE, 16 * b + j, (byte) 0x11);
            }
            for (int j = 0; j < 16; j++) codes.set(ValueLayout.JAVA_BYTE, 64 + j, (byte) (j | (15 - j) << 4));
            scales.set(ValueLayout.JAVA_BYTE, 4, (byte) 130);
            Mxfp4Tensor t = new Mxfp4Tensor(codes, scales);
            WeightMatrix m = WeightMatrix.of(t, 1, 160);
            assertEquals(Lanes.FAST, m instanceof Mxfp4Matrix, m.toString());
            float[] evens = new float[160], odds = new float[160];
            for (int j = 0; j < 16; j++) {
                evens[128 + 2 * j] = j + 1;   // picks the low nibbles of the last block, weighted so order mistakes show
                odds[128 + 2 * j + 1] = j + 1;
            }
            float expectedEven = 0, expectedOdd = 0;
            for (int j = 0; j < 16; j++) {
                expectedEven += Mxfp4Tensor.FP4[j] * 8f * (j + 1);
                expectedOdd += Mxfp4Tensor.FP4[15 - j] * 8f * (j + 1);
            }
            float[] arranged = new float[m.dotLayout().length(160)];
            m.dotLayout().arrange(evens, 0, 160, arranged, 0);
            assertEquals(expectedEven, m.dot(0, arranged, 0), 0f);
            m.dotLayout().arrange(odds, 0, 160, arranged, 0);
            assertEquals(expectedOdd, m.dot(0, arranged, 0), 0f);
            float[] ones = new float[160];
            java.util.Arrays.fill(ones, 0, 128, 1f);
            m.dotLayout().arrange(ones, 0, 160, arranged, 0);
            assertEquals(128 * 0.5f, m.dot(0, arranged, 0), 0f); // the first 4 blocks, each counted once
            assertEquals(-6f * 8f, t.getFloat(128 + 30)); // low nibble of the last block's byte 15: code 15 = −6
            assertEquals(+6f * 8f, t.getFloat(128 + 14)); // low nibble of byte 7: code 7 = +6
            assertEquals(-0f, t.getFloat(128 + 15));      // high nibble of byte 7: code 8 = −0
        }
    }
}
