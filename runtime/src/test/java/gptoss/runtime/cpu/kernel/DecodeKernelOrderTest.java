package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The single-row (decode) kernels of BF16 and MXFP4 — {@code dot}, {@code dot8} (adjacent and strided rows),
 * {@code dotRows} — in Java and, where it loaded, native, bit for bit against a scalar implementation of the
 * package's summation order written here: weights decoded by {@link FloatTensor#getFloat}, both the row and x put
 * in the matrix's {@link VectorLayout}, L lane accumulators from +0, {@code lane[p mod L] = fma(w[p], x[p], lane)}
 * in increasing p, the lanes folded by {@link Lanes#sum(float[], int)}. Every kernel must give exactly those bits.
 */
class DecodeKernelOrderTest {

    /** The documented order, one element at a time. */
    static float reference(FloatTensor t, long rowStart, int cols, VectorLayout layout, float[] x) {
        float[] w = new float[cols];
        for (int k = 0; k < cols; k++) w[k] = t.getFloat(rowStart + k);
        int n = layout.length(cols);
        float[] wa = new float[n], xa = new float[n];
        layout.arrange(w, 0, cols, wa, 0);
        layout.arrange(x, 0, cols, xa, 0);
        float[] lanes = new float[Lanes.L];
        for (int p = 0; p < n; p++) lanes[p % Lanes.L] = Math.fma(wa[p], xa[p], lanes[p % Lanes.L]);
        return Lanes.sum(lanes, 0);
    }

    /** The Java kernels always, the native ones where they loaded. */
    static List<WeightMatrix> kernels(String format, FloatTensor t, long offset, int rows, int cols) {
        List<WeightMatrix> list = new ArrayList<>();
        if (format.equals("bf16")) {
            var b = (gptoss.model.tensor.Bf16Tensor) t;
            list.add(new Bf16Matrix(b, offset, rows, cols, false));
            if (NativeKernels.available()) list.add(new Bf16Matrix(b, offset, rows, cols, true));
        } else {
            var m = (gptoss.model.tensor.Mxfp4Tensor) t;
            list.add(new Mxfp4Matrix(m, offset, rows, cols, false));
            if (NativeKernels.available()) list.add(new Mxfp4Matrix(m, offset, rows, cols, true));
        }
        return list;
    }

    private static String name(WeightMatrix m) {
        boolean nat = m instanceof Mxfp4Matrix x ? x.isNative() : ((Bf16Matrix) m).isNative();
        return m + (nat ? " native" : " java");
    }

    @ParameterizedTest
    @CsvSource({"bf16,19,2880", "bf16,9,4096", "bf16,17,64", "bf16,9,100", "bf16,9,40", "bf16,3,7",
            "mxfp4,19,2880", "mxfp4,9,4096", "mxfp4,17,64", "mxfp4,9,32", "mxfp4,5,160"})
    void everyKernelGivesTheBitsOfTheDocumentedOrder(String format, int rows, int cols) {
        assumeTrue(Lanes.FAST);
        SplittableRandom random = new SplittableRandom(rows * 131L + cols + format.length());
        try (Arena arena = Arena.ofConfined()) {
            long offset = 3L * cols; // a matrix inside a larger tensor, as an expert's slice
            FloatTensor t = WeightMatrixTest.tensor(format, arena, offset + (long) rows * cols + 64, random);
            float[] x = RandomTensors.gaussian(cols, random);
            VectorLayout layout = VectorLayout.SPLIT;
            float[] expected = new float[rows];
            for (int r = 0; r < rows; r++) {
                expected[r] = reference(t, offset + (long) r * cols, cols, layout, x);
                // the reference is the dot product (up to rounding), not just some sum
                float absSum = 0;
                for (int k = 0; k < cols; k++) absSum += Math.abs(t.getFloat(offset + (long) r * cols + k) * x[k]);
                assertEquals(WeightMatrix.scalar(t, offset, rows, cols).dotScalar(r, x, 0), expected[r], RandomTensors.sumTolerance(absSum, cols));
            }
            float[] arranged = new float[layout.length(cols) + 5];           // x at an offset inside a larger array
            layout.arrange(x, 0, cols, arranged, 5);
            for (WeightMatrix m : kernels(format, t, offset, rows, cols)) {
                assertEquals(layout, m.dotLayout());
                assertEquals(layout, m.decodeLayout());
                String name = name(m);
                for (int r = 0; r < rows; r++) assertBits(expected[r], m.dot(r, arranged, 5), name + " dot row " + r);
                float[] pass = new float[WeightMatrix.PASS_ROWS + 2];
                for (int r = 0; r + WeightMatrix.PASS_ROWS <= rows; r++) {
                    m.dot8(r, 1, arranged, 5, pass, 2);
                    for (int i = 0; i < WeightMatrix.PASS_ROWS; i++) assertBits(expected[r + i], pass[2 + i], name + " dot8 row " + (r + i));
                }
                for (int r = 0; r + 2 * (WeightMatrix.PASS_ROWS - 1) < rows; r++) {
                    m.dot8(r, 2, arranged, 5, pass, 0);
                    for (int i = 0; i < WeightMatrix.PASS_ROWS; i++) assertBits(expected[r + 2 * i], pass[i], name + " strided dot8 row " + (r + 2 * i));
                }
                // dotRows over ranges cut at different places (any thread split), output at an offset
                for (int cut : new int[]{0, 1, rows / 3, rows - 1}) {
                    float[] out = new float[rows + 3];
                    m.dotRows(0, cut, arranged, 5, out, 3, new float[WeightMatrix.PASS_ROWS]);
                    m.dotRows(cut, rows, arranged, 5, out, 3, new float[WeightMatrix.PASS_ROWS]);
                    for (int r = 0; r < rows; r++) assertBits(expected[r], out[3 + r], name + " dotRows cut at " + cut + ", row " + r);
                }
            }
        }
    }

    /** The Java kernels give the same bits in the interpreter and once C2 has compiled them (many calls). */
    @ParameterizedTest
    @CsvSource({"bf16", "mxfp4"})
    void theJavaKernelsGiveTheSameBitsInEveryJitState(String format) {
        assumeTrue(Lanes.FAST);
        int rows = 16, cols = 256;
        SplittableRandom random = new SplittableRandom(format.length());
        try (Arena arena = Arena.ofConfined()) {
            FloatTensor t = WeightMatrixTest.tensor(format, arena, (long) rows * cols, random);
            float[] x = RandomTensors.gaussian(cols, random), arranged = new float[cols];
            VectorLayout.SPLIT.arrange(x, 0, cols, arranged, 0);
            float[] expected = new float[rows];
            for (int r = 0; r < rows; r++) expected[r] = reference(t, (long) r * cols, cols, VectorLayout.SPLIT, x);
            WeightMatrix m = kernels(format, t, 0, rows, cols).getFirst();
            float[] out = new float[rows], pass = new float[WeightMatrix.PASS_ROWS];
            for (int i = 0; i < 20_000; i++) {
                m.dotRows(0, rows, arranged, 0, out, 0, pass);
                int r = i % rows;
                float one = m.dot(r, arranged, 0);
                if (Float.floatToRawIntBits(one) != Float.floatToRawIntBits(expected[r]) || Float.floatToRawIntBits(out[r]) != Float.floatToRawIntBits(expected[r])) {
                    throw new AssertionError(format + " call " + i + ", row " + r + ": " + one + " / " + out[r] + " instead of " + expected[r]);
                }
            }
        }
    }

    @Test
    void nativeAndJavaAgreeOnARealExpertShape() {
        assumeTrue(NativeKernels.available());
        int rows = 5760 / 8, cols = 2880; // an eighth of gpt-oss-20b's gate/up matrix
        SplittableRandom random = new SplittableRandom(20);
        try (Arena arena = Arena.ofConfined()) {
            for (String format : new String[]{"mxfp4", "bf16"}) {
                FloatTensor t = WeightMatrixTest.tensor(format, arena, (long) rows * cols, random);
                float[] x = RandomTensors.gaussian(cols, random), arranged = new float[cols];
                VectorLayout.SPLIT.arrange(x, 0, cols, arranged, 0);
                List<WeightMatrix> k = kernels(format, t, 0, rows, cols);
                float[] java = new float[rows], nat = new float[rows], pass = new float[WeightMatrix.PASS_ROWS];
                k.get(0).dotRows(0, rows, arranged, 0, java, 0, pass);
                k.get(1).dotRows(0, rows, arranged, 0, nat, 0, pass);
                for (int r = 0; r < rows; r++) assertBits(java[r], nat[r], format + " row " + r);
                assertTrue(name(k.get(1)).endsWith("native"));
            }
        }
    }

    static void assertBits(float expected, float actual, String what) {
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual), what + ": " + actual + " instead of " + expected);
    }
}
