package gptoss.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * The attention kernel the tiled one replaced (commit 11bb8d7), kept as {@link AttentionPrefillBenchmark}'s
 * baseline: one query row at a time over its visible slots (keys transposed {@code [d][capacity]}, values by slot),
 * scores, softmax (the Vector API's EXP, reduceLanes sums) and value mix in three passes.
 */
final class RowAttention {
    private RowAttention() {
    }

    /** Scratch floats {@link #attend} needs for {@code heads} heads over {@code count} slots. */
    public static int scratchSize(int heads, int count) {
        return heads * padded(count);
    }

    private static int padded(int count) {
        return (count + L - 1) / L * L;
    }

    /**
     * For query heads h < {@code heads}: {@code out[h] = Σ_j softmax_j(q[h]·k_j·scale ∪ sink[h]) · v_j} over slots
     * j < count.
     *
     * @param q        query heads, head h at {@code q[qOffset + h·headDim]}
     * @param keys     transposed keys of this KV head: dimension d of slot j at {@code keys[keysOffset + d·capacity + j]};
     *                 capacity is a multiple of {@code L} and slots up to it hold finite numbers
     * @param values   values: dimension d of slot j at {@code values[valuesOffset + j·valueStride + d]}
     * @param sinks    sink logit of head h at {@code sinks[sinkOffset + h]}
     * @param scratch  at least {@link #scratchSize} floats
     * @param out      head h written to {@code out[outOffset + h·headDim]}
     */
    public static void attend(float[] q, int qOffset, int heads, int headDim,
                              float[] keys, int keysOffset, int capacity,
                              float[] values, int valuesOffset, int valueStride, int count,
                              float[] sinks, int sinkOffset, float scale, float[] scratch,
                              float[] out, int outOffset) {
        int stride = padded(count);
        int h = 0;
        for (; h + 4 <= heads; h += 4) scores4(q, qOffset + h * headDim, headDim, keys, keysOffset, capacity, stride, scale, scratch, h * stride);
        for (; h < heads; h++) scores1(q, qOffset + h * headDim, headDim, keys, keysOffset, capacity, stride, scale, scratch, h * stride);
        for (h = 0; h < heads; h++) softmax(scratch, h * stride, count, stride, sinks[sinkOffset + h]);
        for (int d = 0; d < headDim; d += L) {
            h = 0;
            for (; h + 4 <= heads; h += 4) mix4(scratch, h * stride, stride, count, values, valuesOffset + d, valueStride, out, outOffset + h * headDim + d, headDim);
            for (; h < heads; h++) mix1(scratch, h * stride, count, values, valuesOffset + d, valueStride, out, outOffset + h * headDim + d);
        }
    }

    /** Scores of 4 heads (q rows headDim apart) for all slot vectors. */
    private static void scores4(float[] q, int qh, int headDim, float[] keys, int keysOffset, int capacity, int stride,
                                float scale, float[] scores, int scoresOffset) {
        for (int s = 0; s < stride; s += L) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            int k = keysOffset + s;
            for (int d = 0; d < headDim; d++, k += capacity) {
                FloatVector key = FloatVector.fromArray(F, keys, k);
                a0 = key.fma(FloatVector.broadcast(F, q[qh + d]), a0);
                a1 = key.fma(FloatVector.broadcast(F, q[qh + headDim + d]), a1);
                a2 = key.fma(FloatVector.broadcast(F, q[qh + 2 * headDim + d]), a2);
                a3 = key.fma(FloatVector.broadcast(F, q[qh + 3 * headDim + d]), a3);
            }
            a0.mul(scale).intoArray(scores, scoresOffset + s);
            a1.mul(scale).intoArray(scores, scoresOffset + stride + s);
            a2.mul(scale).intoArray(scores, scoresOffset + 2 * stride + s);
            a3.mul(scale).intoArray(scores, scoresOffset + 3 * stride + s);
        }
    }

    private static void scores1(float[] q, int qh, int headDim, float[] keys, int keysOffset, int capacity, int stride,
                                float scale, float[] scores, int scoresOffset) {
        for (int s = 0; s < stride; s += L) {
            FloatVector a = FloatVector.zero(F);
            int k = keysOffset + s;
            for (int d = 0; d < headDim; d++, k += capacity) a = FloatVector.fromArray(F, keys, k).fma(FloatVector.broadcast(F, q[qh + d]), a);
            a.mul(scale).intoArray(scores, scoresOffset + s);
        }
    }

    /** Scores → weights: exp(s − max) / (exp(sink − max) + Σ exp(s − max)); padding slots get weight 0. */
    private static void softmax(float[] s, int offset, int count, int stride, float sink) {
        for (int j = count; j < stride; j++) s[offset + j] = Float.NEGATIVE_INFINITY;
        FloatVector mv = FloatVector.broadcast(F, sink);
        for (int j = 0; j < stride; j += L) mv = mv.max(FloatVector.fromArray(F, s, offset + j));
        float max = mv.reduceLanes(VectorOperators.MAX);
        FloatVector sum = FloatVector.zero(F);
        for (int j = 0; j < stride; j += L) {
            FloatVector e = FloatVector.fromArray(F, s, offset + j).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(s, offset + j);
            sum = sum.add(e);
        }
        float inverse = 1.0f / (sum.reduceLanes(VectorOperators.ADD) + (float) Math.exp(sink - max));
        for (int j = 0; j < stride; j += L) FloatVector.fromArray(F, s, offset + j).mul(inverse).intoArray(s, offset + j);
    }

    /** out[h][d..d+L) = Σ_j w[h][j] · v_j[d..d+L) for 4 heads. */
    private static void mix4(float[] w, int wOffset, int stride, int count, float[] values, int valuesOffset, int valueStride,
                             float[] out, int outOffset, int headDim) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int v = valuesOffset;
        for (int j = 0; j < count; j++, v += valueStride) {
            FloatVector value = FloatVector.fromArray(F, values, v);
            a0 = value.fma(FloatVector.broadcast(F, w[wOffset + j]), a0);
            a1 = value.fma(FloatVector.broadcast(F, w[wOffset + stride + j]), a1);
            a2 = value.fma(FloatVector.broadcast(F, w[wOffset + 2 * stride + j]), a2);
            a3 = value.fma(FloatVector.broadcast(F, w[wOffset + 3 * stride + j]), a3);
        }
        a0.intoArray(out, outOffset);
        a1.intoArray(out, outOffset + headDim);
        a2.intoArray(out, outOffset + 2 * headDim);
        a3.intoArray(out, outOffset + 3 * headDim);
    }

    private static void mix1(float[] w, int wOffset, int count, float[] values, int valuesOffset, int valueStride,
                             float[] out, int outOffset) {
        FloatVector a = FloatVector.zero(F);
        int v = valuesOffset;
        for (int j = 0; j < count; j++, v += valueStride) a = FloatVector.fromArray(F, values, v).fma(FloatVector.broadcast(F, w[wOffset + j]), a);
        a.intoArray(out, outOffset);
    }
}
