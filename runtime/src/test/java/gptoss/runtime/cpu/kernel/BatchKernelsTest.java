package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native small-batch kernels ({@link BatchKernels}) bit for bit against the summation order of the package
 * documentation: for 2..15 tokens and odd shapes (rows that fill no tile, BF16 rows with a tail shorter than 32,
 * a matrix inside a larger tensor, token rows at an offset and a wider stride), every output equals the scalar
 * model of the order ({@link GemmTest#ordered}), the single-row kernel of its row and token (native and Java),
 * and the Java small-batch path ({@link Gemm#rows} on the Java kernels).
 */
class BatchKernelsTest {

    @Test
    void theNativePathRunsWhereTheSingleRowKernelsDo() {
        boolean off = !Boolean.parseBoolean(System.getProperty(BatchKernels.PROPERTY, "true"));
        try (Arena arena = Arena.ofConfined()) {
            WeightMatrix b = WeightMatrix.of(RandomTensors.bf16(arena, 8L * 64, new SplittableRandom(1)), 8, 64);
            WeightMatrix j = WeightMatrix.javaKernels(RandomTensors.mxfp4(arena, 8L * 64, new SplittableRandom(2)), 0, 8, 64);
            assertEquals(NativeKernels.available() && !off, BatchKernels.supports(b, 2), BatchKernels.describe());
            assertFalse(BatchKernels.supports(b, 1), "one token is the single-row kernels' work");
            assertFalse(BatchKernels.supports(b, 16), "16 tokens and more are the GEMM's");
            assertFalse(BatchKernels.supports(j, 4), "a matrix on the Java kernels stays on them");
            assertThrows(IllegalStateException.class, () -> BatchKernels.rows(j, 0, 8, new float[4 * 64], 0, 64, 4, new Gemm.Scratch(), (a, c, d, e, f, g) -> { }));
        }
    }

    @ParameterizedTest
    @CsvSource({
            "bf16,37,2880,0", "bf16,13,100,0", "bf16,7,4096,0", "bf16,1,64,0", "bf16,9,48,0", "bf16,19,32,0",
            // BF16 rows that start past a cache line: 32 bytes (bench-m's lm_head in its checkpoint), 4, 60 (the
            // spliced tiles), 2 (not a multiple of 4: the plain tiles)
            "bf16,37,2880,16", "bf16,21,4096,2", "bf16,11,64,30", "bf16,13,2880,1",
            "mxfp4,37,2880,0", "mxfp4,11,160,0", "mxfp4,7,32,0", "mxfp4,1,4096,0", "mxfp4,23,96,0"})
    void everyTokenCountGivesTheBitsOfTheDocumentedOrder(String format, int rows, int cols, int shift) {
        SplittableRandom random = new SplittableRandom(rows * 977L + cols);
        int maxTokens = BatchKernels.MAX_TOKENS;
        try (Arena arena = Arena.ofConfined()) {
            long offset = 3L * cols + shift;  // a matrix inside a larger tensor
            FloatTensor t = GemmTest.tensor(format, arena, offset + (long) rows * cols + 64, random);
            WeightMatrix m = WeightMatrix.of(t, offset, rows, cols), java = WeightMatrix.javaKernels(t, offset, rows, cols);
            assumeTrue(BatchKernels.supports(m, 2), "native small-batch kernels: " + BatchKernels.describe());
            int stride = Gemm.stride(m) + Lanes.L;  // wider than needed, as callers may use
            VectorLayout layout = m.decodeLayout();
            float[] x = RandomTensors.gaussian(maxTokens * cols, random);
            int xOffset = 7;
            float[] arranged = new float[xOffset + maxTokens * stride];
            for (int tok = 0; tok < maxTokens; tok++) layout.arrange(x, tok * cols, cols, arranged, xOffset + tok * stride);
            float[] expected = new float[maxTokens * rows], dotNative = new float[maxTokens * rows], dotJava = new float[maxTokens * rows];
            float[] one = new float[layout.length(cols)];
            for (int tok = 0; tok < maxTokens; tok++) {
                m.dotLayout().arrange(x, tok * cols, cols, one, 0);
                for (int r = 0; r < rows; r++) {
                    expected[tok * rows + r] = GemmTest.ordered(t, offset + (long) r * cols, cols, layout, x, tok * cols);
                    dotNative[tok * rows + r] = m.dot(r, one, 0);
                    dotJava[tok * rows + r] = java.dot(r, one, 0);
                }
            }
            for (int tokens = BatchKernels.MIN_TOKENS; tokens <= maxTokens; tokens++) {
                int n = tokens;
                for (int unit : new int[]{16, 5, 128}) {
                    float[] out = new float[tokens * rows], viaJava = new float[tokens * rows], viaNative = new float[tokens * rows];
                    // the token rows in native memory too: aligned to a cache line (an AlignedRows copy) and not
                    int nativeOffset = unit == 16 ? 0 : 3;
                    MemorySegment nativeX = new BatchKernels.AlignedRows().copy(new float[nativeOffset + arranged.length], 0, nativeOffset + arranged.length);
                    MemorySegment.copy(arranged, 0, nativeX, ValueLayout.JAVA_FLOAT, (long) nativeOffset * Float.BYTES, arranged.length);
                    Gemm.Scratch scratch = new Gemm.Scratch();
                    for (int row = 0; row < rows; row += unit) {
                        int count = Math.min(unit, rows - row);
                        BatchKernels.rows(m, row, count, arranged, xOffset, stride, tokens, scratch, (r0, cnt, tk, c, co, cs) -> {
                            assertEquals(n, tk);
                            for (int r = 0; r < cnt; r++) for (int tt = 0; tt < tk; tt++) out[tt * rows + r0 + r] = c[co + r * cs + tt];
                        });
                        BatchKernels.rows(m, row, count, nativeX, nativeOffset + xOffset, stride, tokens, scratch, (r0, cnt, tk, c, co, cs) -> {
                            for (int r = 0; r < cnt; r++) for (int tt = 0; tt < tk; tt++) viaNative[tt * rows + r0 + r] = c[co + r * cs + tt];
                        });
                        Gemm.rows(java, row, count, arranged, xOffset, stride, tokens, scratch, (r0, cnt, tk, c, co, cs) -> {
                            for (int r = 0; r < cnt; r++) for (int tt = 0; tt < tk; tt++) viaJava[tt * rows + r0 + r] = c[co + r * cs + tt];
                        });
                    }
                    for (int i = 0; i < tokens * rows; i++) {
                        String where = format + " " + rows + "x" + cols + " +" + shift + ", " + tokens + " tokens, unit " + unit + ": token " + i / rows + " row " + i % rows;
                        int bits = Float.floatToRawIntBits(out[i]);
                        assertEquals(Float.floatToRawIntBits(expected[i]), bits, where + ": order model " + expected[i] + " vs " + out[i]);
                        assertEquals(Float.floatToRawIntBits(dotNative[i]), bits, where + ": native dot");
                        assertEquals(Float.floatToRawIntBits(dotJava[i]), bits, where + ": Java dot");
                        assertEquals(Float.floatToRawIntBits(viaJava[i]), bits, where + ": Java small-batch path");
                        assertEquals(Float.floatToRawIntBits(viaNative[i]), bits, where + ": token rows in native memory");
                    }
                }
            }
        }
    }

    @Test
    void argumentsAreChecked() {
        try (Arena arena = Arena.ofConfined()) {
            WeightMatrix m = WeightMatrix.of(RandomTensors.bf16(arena, 8L * 64, new SplittableRandom(3)), 8, 64);
            assumeTrue(BatchKernels.supports(m, 2));
            Gemm.Epilogue none = (a, b, c, d, e, f) -> { };
            assertThrows(IndexOutOfBoundsException.class, () -> BatchKernels.rows(m, 4, 5, new float[2 * 64], 0, 64, 2, new Gemm.Scratch(), none));
            assertThrows(IndexOutOfBoundsException.class, () -> BatchKernels.rows(m, 0, 8, new float[2 * 64 - 1], 0, 64, 2, new Gemm.Scratch(), none));
            assertThrows(IllegalArgumentException.class, () -> BatchKernels.rows(m, 0, 8, new float[4 * 64], 0, 32, 2, new Gemm.Scratch(), none));
            assertThrows(IllegalArgumentException.class, () -> BatchKernels.rows(m, 0, 8, MemorySegment.ofArray(new float[4 * 64]), 0, 64, 2, new Gemm.Scratch(), none));
            assertThrows(IndexOutOfBoundsException.class, () -> BatchKernels.rows(m, 0, 8, new BatchKernels.AlignedRows().copy(new float[2 * 64 - 1], 0, 2 * 64 - 1), 0, 64, 2, new Gemm.Scratch(), none));
            assertTrue(BatchKernels.supports(m, BatchKernels.MAX_TOKENS));
        }
    }
}
