package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.FloatTensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The matrix product against the summation order of the package documentation, bit for bit: every output of
 * {@link Gemm} for any number of tokens equals an independent scalar model of that order (weights from
 * {@link FloatTensor#getFloat}, lanes from {@link VectorLayout#positionOf}, {@link Math#fma}, {@link Lanes#sum(float[], int)}),
 * and so equals {@link WeightMatrix#dot} wherever that follows the order too.
 */
class GemmTest {

    /** Single-row kernels owned elsewhere that may not follow the documented order yet (their tests then skip). */
    private static final java.util.Set<String> PENDING = java.util.Set.of("q8_0", "f16", "ggml-mxfp4", "mxfp4-native");

    /** out[t·N + o] for all rows of m, through Gemm in units of {@code unit} rows. */
    static float[] product(WeightMatrix m, float[] x, int tokens, int unit) {
        return product(m, x, tokens, unit, true);
    }

    /** {@link #product}; with {@code nativeGemm} false through Gemm's Java micro-kernels even where the native GEMM runs. */
    static float[] product(WeightMatrix m, float[] x, int tokens, int unit, boolean nativeGemm) {
        int K = m.cols(), N = m.rows(), stride = Gemm.stride(m) + 3; // a wider stride than needed, as callers may use
        VectorLayout layout = m.decodeLayout();
        float[] arranged = new float[5 + tokens * stride];
        for (int t = 0; t < tokens; t++) layout.arrange(x, t * K, K, arranged, 5 + t * stride);
        float[] out = new float[tokens * N];
        Gemm.Scratch scratch = new Gemm.Scratch();
        Gemm.Epilogue sink = (row, count, n, c, cOffset, cStride) -> {
            assertEquals(tokens, n);
            for (int r = 0; r < count; r++) {
                for (int t = 0; t < n; t++) out[t * N + row + r] = c[cOffset + r * cStride + t];
            }
        };
        for (int row = 0; row < N; row += unit) Gemm.rows(m, row, Math.min(unit, N - row), arranged, 5, stride, tokens, scratch, sink, nativeGemm);
        return out;
    }

    /**
     * The documented order, element by element: the row's elements in increasing position p of {@code layout},
     * each {@code lane[p mod L] = fma(w, x, lane[p mod L])}, then the fold of {@link Lanes#sum(float[], int)}.
     */
    static float ordered(FloatTensor t, long first, int cols, VectorLayout layout, float[] x, int xOffset) {
        int L = Lanes.L;
        Integer[] byPosition = IntStream.range(0, cols).boxed().toArray(Integer[]::new);
        Arrays.sort(byPosition, Comparator.comparingInt(k -> layout.positionOf(k, cols)));
        float[] lanes = new float[L];
        for (int k : byPosition) {
            int lane = layout.positionOf(k, cols) % L;
            lanes[lane] = Math.fma(t.getFloat(first + k), x[xOffset + k], lanes[lane]);
        }
        return Lanes.sum(lanes, 0);
    }

    static FloatTensor tensor(String format, Arena arena, long elements, SplittableRandom random) {
        return switch (format) {
            case "bf16", "generic" -> RandomTensors.bf16(arena, elements, random);
            case "mxfp4", "mxfp4-native" -> RandomTensors.mxfp4(arena, elements, random);
            case "ggml-mxfp4" -> GgufMatrixTest.tensor("mxfp4", arena, elements, random);
            default -> GgufMatrixTest.tensor(format, arena, elements, random);
        };
    }

    static WeightMatrix matrix(String format, FloatTensor t, long offset, int rows, int cols) {
        return switch (format) {
            case "generic" -> WeightMatrix.scalar(t, offset, rows, cols);
            case "mxfp4" -> WeightMatrix.javaKernels(t, offset, rows, cols);
            default -> WeightMatrix.of(t, offset, rows, cols);
        };
    }

    /**
     * For every format: the product of 1..40 token rows gives, for each token and row, the bits of the documented
     * order, and so of the single-row kernel ({@code dot}) where that follows it.
     */
    @ParameterizedTest
    @CsvSource({
            "bf16,37,2880", "bf16,13,100", "bf16,6,4096",
            "mxfp4,37,2880", "mxfp4,9,160", "mxfp4,6,1024", "mxfp4-native,11,2880",
            "generic,9,70",
            "q8_0,11,2880", "f16,11,2880", "f16,5,100", "ggml-mxfp4,11,2880"})
    void everyBatchSizeGivesTheBitsOfTheDocumentedOrder(String format, int rows, int cols) {
        SplittableRandom random = new SplittableRandom(rows * 131L + cols);
        int maxTokens = 40;
        try (Arena arena = Arena.ofConfined()) {
            long offset = 2L * cols;  // a matrix inside a larger tensor
            FloatTensor t = tensor(format, arena, offset + (long) rows * cols + 64, random);
            WeightMatrix m = matrix(format, t, offset, rows, cols);
            assertEquals(m.dotLayout(), m.decodeLayout(), m + ": one order for both paths");
            float[] x = RandomTensors.gaussian(maxTokens * cols, random);
            float[] expected = new float[maxTokens * rows];
            for (int tok = 0; tok < maxTokens; tok++) {
                for (int r = 0; r < rows; r++) expected[tok * rows + r] = ordered(t, offset + (long) r * cols, cols, m.decodeLayout(), x, tok * cols);
            }
            for (int tokens = 1; tokens <= maxTokens; tokens++) {
                float[] out = product(m, x, tokens, Gemm.unitRows(tokens));
                for (int i = 0; i < tokens * rows; i++) {
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(out[i]),
                            format + " " + tokens + " tokens: token " + i / rows + " row " + i % rows + ": " + expected[i] + " vs " + out[i]);
                }
            }
            // The single-row kernel on the same rows: the bits of the same order, where its owner has converted it.
            float[] arranged = new float[m.dotLayout().length(cols)];
            boolean same = true;
            String first = null;
            for (int tok = 0; tok < 3; tok++) {
                m.dotLayout().arrange(x, tok * cols, cols, arranged, 0);
                for (int r = 0; r < rows; r++) {
                    float dot = m.dot(r, arranged, 0), e = expected[tok * rows + r];
                    if (Float.floatToRawIntBits(dot) != Float.floatToRawIntBits(e)) {
                        same = false;
                        if (first == null) first = "token " + tok + " row " + r + ": dot " + dot + " vs " + e;
                    }
                }
            }
            if (!same && PENDING.contains(format)) {
                Assumptions.abort(format + ": the single-row dot does not follow the documented order yet (" + first
                        + "); its owner converts it this session, and then this check passes");
            }
            assertTrue(same, format + ": single-row dot differs from the documented order, " + first);
        }
    }

    /**
     * The native GEMM ({@link GemmKernels}, from {@link GemmKernels#MIN_TOKENS} tokens) against Gemm's Java
     * micro-kernels and, per token, the Java single-row kernel ({@code dot}, which the test above ties to the
     * documented order) and the scalar order model: bit for bit, for 1..40, 128 and 200 tokens, row counts that are
     * no multiple of the 4-row micro-tile, depths that end inside a depth block (1056 = 1024 + 32) or fit in one,
     * units of 8 to 64 rows. BF16 and MXFP4 are decoded natively; Q8_0 and F16 go through their Java decode.
     */
    @ParameterizedTest
    @CsvSource({"bf16,37,2880", "bf16,70,1056", "bf16,5,96", "mxfp4,37,2880", "mxfp4,70,1056", "mxfp4,9,160", "q8_0,11,2880", "f16,6,100"})
    void nativeGemmGivesTheBitsOfTheJavaGemmAndTheSingleRowKernels(String format, int rows, int cols) {
        Assumptions.assumeTrue(GemmKernels.available(), GemmKernels.describe());
        SplittableRandom random = new SplittableRandom(rows * 7L + cols);
        int[] counts = IntStream.concat(IntStream.rangeClosed(1, 40), IntStream.of(128, 200)).toArray();
        int maxTokens = 200;
        try (Arena arena = Arena.ofConfined()) {
            long offset = 3L * cols;
            FloatTensor t = tensor(format, arena, offset + (long) rows * cols + 64, random);
            WeightMatrix m = WeightMatrix.of(t, offset, rows, cols), java = WeightMatrix.javaKernels(t, offset, rows, cols);
            float[] x = RandomTensors.gaussian(maxTokens * cols, random);
            boolean bySingleRow = format.equals("bf16") || format.equals("mxfp4");
            float[] expected = new float[maxTokens * rows], arranged = new float[java.dotLayout().length(cols)];
            for (int tok = 0; tok < maxTokens; tok++) {
                java.dotLayout().arrange(x, tok * cols, cols, arranged, 0);
                for (int r = 0; r < rows; r++) {
                    // the order model for 3 tokens (it sorts positions per call: slow), the single-row kernel for the rest
                    expected[tok * rows + r] = tok < 3 ? ordered(t, offset + (long) r * cols, cols, m.decodeLayout(), x, tok * cols)
                            : bySingleRow ? java.dot(r, arranged, 0) : Float.NaN;
                }
            }
            for (int tokens : counts) {
                int unit = new int[]{8, 16, 32, 64}[tokens % 4];
                float[] nat = product(m, x, tokens, unit, true), jav = product(m, x, tokens, unit, false);
                for (int i = 0; i < tokens * rows; i++) {
                    String where = format + " " + tokens + " tokens, unit " + unit + ": token " + i / rows + " row " + i % rows;
                    if (!Float.isNaN(expected[i])) {
                        assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(nat[i]), where + ": " + expected[i] + " vs native " + nat[i]);
                    }
                    assertEquals(Float.floatToRawIntBits(jav[i]), Float.floatToRawIntBits(nat[i]), where + ": Java GEMM " + jav[i] + " vs native " + nat[i]);
                }
            }
        }
    }

    /**
     * The native GEMM's epilogue ({@link GemmKernels#finish}: fold, bias, SwiGLU in C) against the Java fold and
     * the Java epilogue applied to the same accumulators (bias added, then {@link gptoss.runtime.ops.Swiglu#apply} of
     * each (gate, linear) row pair), bit for bit: units whose row count is no multiple of 16 or 32, tokens that are
     * no multiple of the micro-tile, outputs written into a wider row at an offset; biases spread the sums over
     * [-40, 40], so SwiGLU's clamps and both tails of its sigmoid are taken.
     */
    @ParameterizedTest
    @CsvSource({"bf16,134,2880,true", "mxfp4,134,1056,true", "bf16,37,160,false", "mxfp4,70,2880,false"})
    void nativeEpilogueGivesTheBitsOfTheJavaEpilogue(String format, int rows, int cols, boolean swiglu) {
        Assumptions.assumeTrue(GemmKernels.available(), GemmKernels.describe());
        SplittableRandom random = new SplittableRandom(rows * 31L + cols);
        float alpha = 1.702f, limit = 7f;
        try (Arena arena = Arena.ofConfined()) {
            WeightMatrix m = WeightMatrix.of(tensor(format, arena, (long) rows * cols, random), 0, rows, cols);
            float[] bias = new float[rows];
            for (int r = 0; r < rows; r++) bias[r] = (float) random.nextDouble(-40, 40);
            int width = swiglu ? rows / 2 : rows, outStride = width + 5, outOffset = 3;
            for (int tokens : new int[]{16, 17, 23, 64}) {
                float[] x = RandomTensors.gaussian(tokens * cols, random);
                int stride = Gemm.stride(m);
                float[] arranged = new float[tokens * stride];
                for (int t = 0; t < tokens; t++) m.decodeLayout().arrange(x, t * cols, cols, arranged, t * stride);
                for (int unit : new int[]{6, 18, 32, 40, 64, 128}) {
                    float[] expected = new float[outOffset + tokens * outStride], got = new float[expected.length];
                    Gemm.Scratch scratch = new Gemm.Scratch();
                    Gemm.Epilogue java = (row, count, n, c, cOffset, cStride) -> {
                        for (int t = 0; t < n; t++) {
                            for (int r = 0; r < count; r++) {
                                float sum = c[cOffset + r * cStride + t] + bias[row + r];
                                if (!swiglu) {
                                    expected[outOffset + t * outStride + row + r] = sum;
                                } else if (r % 2 == 0) {
                                    float linear = c[cOffset + (r + 1) * cStride + t] + bias[row + r + 1];
                                    expected[outOffset + t * outStride + (row + r) / 2] = gptoss.runtime.ops.Swiglu.apply(sum, linear, alpha, limit);
                                }
                            }
                        }
                    };
                    Gemm.Output output = new Gemm.Output();
                    Gemm.Epilogue nat = new Gemm.Epilogue() {
                        @Override
                        public void write(int row, int count, int n, float[] c, int cOffset, int cStride) {
                            throw new AssertionError("the native GEMM wrote through the Java epilogue");
                        }

                        @Override
                        public Gemm.Output output(int row, int count) {
                            float[] b = output.set(got, outOffset + (swiglu ? row / 2 : row), outStride, swiglu, alpha, limit, count);
                            System.arraycopy(bias, row, b, 0, count);
                            return output;
                        }
                    };
                    for (int row = 0; row < rows; row += unit) {
                        int count = Math.min(unit, rows - row);
                        Gemm.rows(m, row, count, arranged, 0, stride, tokens, scratch, java, false);
                        Gemm.rows(m, row, count, arranged, 0, stride, tokens, scratch, nat, true);
                    }
                    int negative = 0, clamped = 0;
                    for (int i = 0; i < expected.length; i++) {
                        String where = format + " " + tokens + " tokens, unit " + unit + ", index " + i;
                        assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]), where + ": Java " + expected[i] + " vs native " + got[i]);
                        if (expected[i] < -1) negative++;
                        if (expected[i] > 7 * 8 * 0.9f) clamped++;
                    }
                    assertTrue(negative > 0, "some outputs below -1");
                    if (swiglu) assertTrue(clamped > 0, "some outputs from clamped gates");
                }
            }
        }
    }

    /** A token's outputs are bit-identical whatever else is in the batch and however the rows are split into units. */
    @Test
    void resultsDoNotDependOnBatchOrUnits() {
        int rows = 37, cols = 2880, tokens = 45;
        SplittableRandom random = new SplittableRandom(5);
        try (Arena arena = Arena.ofConfined()) {
            for (FloatTensor t : new FloatTensor[]{RandomTensors.bf16(arena, (long) rows * cols, random), RandomTensors.mxfp4(arena, (long) rows * cols, random)}) {
                WeightMatrix m = WeightMatrix.of(t, rows, cols);
                float[] x = RandomTensors.gaussian(tokens * cols, random);
                float[] all = product(m, x, tokens, 32);
                assertArrayEquals(all, product(m, x, tokens, 8), m.toString());
                assertArrayEquals(all, product(m, x, tokens, 12), m.toString());
                for (int tok : new int[]{0, 17, 44}) {
                    float[] one = product(m, Arrays.copyOfRange(x, tok * cols, (tok + 1) * cols), 1, 8);
                    assertArrayEquals(Arrays.copyOfRange(all, tok * rows, (tok + 1) * rows), one, m + " token " + tok);
                }
            }
        }
    }

    /** The same product many times over (interpreted, then compiled by C1 and C2) gives the same bits every time. */
    @Test
    void resultsDoNotDependOnTheJitState() {
        int rows = 8, cols = 256, tokens = 7;
        SplittableRandom random = new SplittableRandom(9);
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor t = RandomTensors.mxfp4(arena, (long) rows * cols, random);
            WeightMatrix m = WeightMatrix.of(t, rows, cols);
            float[] x = RandomTensors.gaussian(tokens * cols, random);
            float[] first = product(m, x, tokens, 8);
            for (int i = 0; i < 3000; i++) {
                float[] again = product(m, x, tokens, 8);
                if (!Arrays.equals(first, again)) assertArrayEquals(first, again, "call " + i);
            }
        }
    }

    @Test
    void depthBlocksAreAlignedAndStridesChecked() {
        for (int k : new int[]{50, 64, 128, 2880, 2944, 4096}) {
            int kc = Gemm.depth(k);
            assertEquals(0, kc % WeightMatrix.DECODE_ALIGN);
            assertTrue(kc >= Math.min(k, WeightMatrix.DECODE_ALIGN), k + ": depth " + kc);
        }
        try (Arena arena = Arena.ofConfined()) {
            WeightMatrix m = WeightMatrix.of(RandomTensors.bf16(arena, 4 * 100, new SplittableRandom(1)), 4, 100);
            assertEquals((100 + Lanes.L - 1) / Lanes.L * Lanes.L, Gemm.stride(m));
            assertThrows(IllegalArgumentException.class, () -> Gemm.rows(m, 0, 4, new float[200], 0, 100, 2, new Gemm.Scratch(), (a, b, c, d, e, f) -> { }));
        }
    }
}
