package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The packed matrix-matrix kernel against the element-by-element reference ({@code dotScalar}). */
class GemmTest {

    /** out[t][o] for rows [row, row + count) of m, through Gemm in units of {@code unit} rows. */
    static float[] product(WeightMatrix m, float[] x, int tokens, int unit) {
        int K = m.cols(), N = m.rows();
        VectorLayout layout = m.decodeLayout();
        int stride = layout.length(K);
        float[] arranged = new float[tokens * stride];
        for (int t = 0; t < tokens; t++) layout.arrange(x, t * K, K, arranged, t * stride);
        float[] packed = new float[Gemm.packedLength(tokens, K)];
        Gemm.pack(arranged, 0, stride, tokens, K, packed);
        float[] out = new float[tokens * N];
        Gemm.Scratch scratch = new Gemm.Scratch();
        Gemm.Epilogue sink = (row, count, n, c, cOffset, cStride) -> {
            assertEquals(tokens, n);
            for (int r = 0; r < count; r++) {
                for (int t = 0; t < n; t++) out[t * N + row + r] = c[cOffset + r * cStride + t];
            }
        };
        for (int row = 0; row < N; row += unit) Gemm.rows(m, row, Math.min(unit, N - row), packed, tokens, scratch, sink);
        return out;
    }

    @ParameterizedTest
    @CsvSource({
            "bf16,30,2880,40", "bf16,13,100,5", "bf16,7,64,1", "bf16,50,1100,17", "bf16,25,2080,33",
            "mxfp4,30,2880,40", "mxfp4,13,160,16", "mxfp4,61,1088,3", "mxfp4,24,4096,32",
            "generic,11,96,9"})
    void matchesScalarReference(String format, int rows, int cols, int tokens) {
        SplittableRandom random = new SplittableRandom(rows * 131L + cols * 7L + tokens);
        try (Arena arena = Arena.ofConfined()) {
            long offset = 2L * cols;  // a matrix inside a larger tensor
            FloatTensor t = format.equals("mxfp4") ? RandomTensors.mxfp4(arena, offset + (long) rows * cols + 64, random)
                    : RandomTensors.bf16(arena, offset + (long) rows * cols + 64, random);
            WeightMatrix m = format.equals("generic") ? WeightMatrix.scalar(t, offset, rows, cols) : WeightMatrix.of(t, offset, rows, cols);
            float[] x = RandomTensors.gaussian(tokens * cols, random);
            float[] out = product(m, x, tokens, Gemm.UNIT_ROWS);
            for (int tok = 0; tok < tokens; tok++) {
                for (int r = 0; r < rows; r++) {
                    float absSum = 0;
                    for (int k = 0; k < cols; k++) absSum += Math.abs(t.getFloat(offset + (long) r * cols + k) * x[tok * cols + k]);
                    assertEquals(m.dotScalar(r, x, tok * cols), out[tok * rows + r], RandomTensors.sumTolerance(absSum, cols),
                            format + " row " + r + " token " + tok);
                }
            }
        }
    }

    /** A token's outputs are bit-identical whatever else is in the chunk and however the rows are split. */
    @Test
    void resultsDoNotDependOnChunkOrSplit() {
        int rows = 37, cols = 2880, tokens = 45;
        SplittableRandom random = new SplittableRandom(5);
        try (Arena arena = Arena.ofConfined()) {
            for (FloatTensor t : new FloatTensor[]{RandomTensors.bf16(arena, (long) rows * cols, random), RandomTensors.mxfp4(arena, (long) rows * cols, random)}) {
                WeightMatrix m = WeightMatrix.of(t, rows, cols);
                float[] x = RandomTensors.gaussian(tokens * cols, random);
                float[] all = product(m, x, tokens, Gemm.UNIT_ROWS);
                float[] split = product(m, x, tokens, 2 * Gemm.MR + 2);
                assertArrayEquals(all, split, m.toString());
                for (int tok : new int[]{0, 17, 44}) {
                    float[] one = product(m, java.util.Arrays.copyOfRange(x, tok * cols, (tok + 1) * cols), 1, Gemm.UNIT_ROWS);
                    assertArrayEquals(java.util.Arrays.copyOfRange(all, tok * rows, (tok + 1) * rows), one, m + " token " + tok);
                }
            }
        }
    }

    @Test
    void depthBlocksAreAlignedAndPackingChecksItsBuffer() {
        for (int k : new int[]{50, 64, 2880, 4096}) {
            int kc = Gemm.depth(k);
            assertEquals(0, kc % WeightMatrix.DECODE_ALIGN);
            assertTrue(kc >= Math.min(k, 512) && kc <= Math.max(512, WeightMatrix.DECODE_ALIGN), k + ": depth " + kc);
        }
        for (int tokens : new int[]{1, 16, 17, 128}) {
            int tp = Gemm.paddedTokens(tokens);
            assertTrue(tp >= tokens && tp < tokens + Lanes.L && tp % Lanes.L == 0);
        }
        assertEquals(64, Gemm.depth(50));
        assertThrows(IllegalArgumentException.class, () -> Gemm.pack(new float[20], 0, 10, 2, 10, new float[5]));
    }
}
