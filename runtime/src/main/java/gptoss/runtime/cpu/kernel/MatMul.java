package gptoss.runtime.cpu.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * fp32 dot products of decoded weight rows with several token rows, all {@code k} long and in the same order:
 * the inner kernels of a matrix product once a {@link WeightMatrix} has decoded a few rows. Four weight rows
 * times four token rows keep 16 accumulators in registers, so each loaded vector feeds four FMAs.
 */
public final class MatMul {
    private MatMul() {
    }

    /** Receives the products of a few weight rows with one token row. */
    @FunctionalInterface
    public interface RowSink {
        /** {@code values[r]} = weight row {@code row + r} times token row {@code token}, for r < count. */
        void accept(int token, int row, int count, float[] values);
    }

    /**
     * Weight rows {@code [row, row + count)} (count ≤ 4) of {@code m} times token rows {@code x[t·xStride ..]} for
     * t < tokens (in {@code m.decodeLayout()} order): the rows are decoded once into {@code weights} (at least
     * 4·cols floats) and applied to every token, four tokens at a time. {@code sums} (16) and {@code values} (4)
     * are work arrays; results go to {@code sink}.
     */
    public static void rowBlock(WeightMatrix m, int row, int count, float[] x, int xStride, int tokens,
                                float[] weights, float[] sums, float[] values, RowSink sink) {
        int k = m.cols();
        m.decode(row, count, weights, 0);
        int t = 0;
        if (count == 4) {
            for (; t + 4 <= tokens; t += 4) {
                dot4x4(weights, 0, x, t * xStride, xStride, k, sums);
                for (int tt = 0; tt < 4; tt++) {
                    for (int r = 0; r < 4; r++) values[r] = sums[4 * r + tt];
                    sink.accept(t + tt, row, 4, values);
                }
            }
            for (; t < tokens; t++) {
                dot4x1(weights, 0, x, t * xStride, k, values);
                sink.accept(t, row, 4, values);
            }
        } else {
            for (; t < tokens; t++) {
                for (int r = 0; r < count; r++) values[r] = dot(weights, r * k, x, t * xStride, k);
                sink.accept(t, row, count, values);
            }
        }
    }

    /**
     * {@code sums[4r + t] = w[r] · x[t]} for r, t < 4, with w[r] at {@code w[wOffset + r·k]} and x[t] at
     * {@code x[xOffset + t·xStride]}.
     */
    public static void dot4x4(float[] w, int wOffset, float[] x, int xOffset, int xStride, int k, float[] sums) {
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        int w0 = wOffset, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
        int x0 = xOffset, x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
        int upper = k - k % L;
        int i = 0;
        for (; i < upper; i += L) {
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + i), v1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + i), v3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = FloatVector.fromArray(F, w, w0 + i);
            a00 = r.fma(v0, a00); a01 = r.fma(v1, a01); a02 = r.fma(v2, a02); a03 = r.fma(v3, a03);
            r = FloatVector.fromArray(F, w, w1 + i);
            a10 = r.fma(v0, a10); a11 = r.fma(v1, a11); a12 = r.fma(v2, a12); a13 = r.fma(v3, a13);
            r = FloatVector.fromArray(F, w, w2 + i);
            a20 = r.fma(v0, a20); a21 = r.fma(v1, a21); a22 = r.fma(v2, a22); a23 = r.fma(v3, a23);
            r = FloatVector.fromArray(F, w, w3 + i);
            a30 = r.fma(v0, a30); a31 = r.fma(v1, a31); a32 = r.fma(v2, a32); a33 = r.fma(v3, a33);
        }
        sums[0] = a00.reduceLanes(VectorOperators.ADD); sums[1] = a01.reduceLanes(VectorOperators.ADD);
        sums[2] = a02.reduceLanes(VectorOperators.ADD); sums[3] = a03.reduceLanes(VectorOperators.ADD);
        sums[4] = a10.reduceLanes(VectorOperators.ADD); sums[5] = a11.reduceLanes(VectorOperators.ADD);
        sums[6] = a12.reduceLanes(VectorOperators.ADD); sums[7] = a13.reduceLanes(VectorOperators.ADD);
        sums[8] = a20.reduceLanes(VectorOperators.ADD); sums[9] = a21.reduceLanes(VectorOperators.ADD);
        sums[10] = a22.reduceLanes(VectorOperators.ADD); sums[11] = a23.reduceLanes(VectorOperators.ADD);
        sums[12] = a30.reduceLanes(VectorOperators.ADD); sums[13] = a31.reduceLanes(VectorOperators.ADD);
        sums[14] = a32.reduceLanes(VectorOperators.ADD); sums[15] = a33.reduceLanes(VectorOperators.ADD);
        for (; i < k; i++) {
            for (int r = 0; r < 4; r++) {
                for (int t = 0; t < 4; t++) sums[4 * r + t] += w[wOffset + r * k + i] * x[xOffset + t * xStride + i];
            }
        }
    }

    /** {@code sums[r] = w[r] · x} for r < 4, w[r] at {@code w[wOffset + r·k]}. */
    public static void dot4x1(float[] w, int wOffset, float[] x, int xOffset, int k, float[] sums) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int w0 = wOffset, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
        int upper = k - k % L;
        int i = 0;
        for (; i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOffset + i);
            a0 = FloatVector.fromArray(F, w, w0 + i).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, w1 + i).fma(v, a1);
            a2 = FloatVector.fromArray(F, w, w2 + i).fma(v, a2);
            a3 = FloatVector.fromArray(F, w, w3 + i).fma(v, a3);
        }
        sums[0] = a0.reduceLanes(VectorOperators.ADD);
        sums[1] = a1.reduceLanes(VectorOperators.ADD);
        sums[2] = a2.reduceLanes(VectorOperators.ADD);
        sums[3] = a3.reduceLanes(VectorOperators.ADD);
        for (; i < k; i++) {
            for (int r = 0; r < 4; r++) sums[r] += w[wOffset + r * k + i] * x[xOffset + i];
        }
    }

    /** {@code w · x} over k elements. */
    public static float dot(float[] w, int wOffset, float[] x, int xOffset, int k) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int upper = k - k % (2 * L);
        int i = 0;
        for (; i < upper; i += 2 * L) {
            a0 = FloatVector.fromArray(F, w, wOffset + i).fma(FloatVector.fromArray(F, x, xOffset + i), a0);
            a1 = FloatVector.fromArray(F, w, wOffset + i + L).fma(FloatVector.fromArray(F, x, xOffset + i + L), a1);
        }
        float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < k; i++) sum += w[wOffset + i] * x[xOffset + i];
        return sum;
    }
}
