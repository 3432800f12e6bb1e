package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.Bf16Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.I;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * BF16 rows read as int vectors: each int lane holds an even element (low half) and the next odd one (high
 * half); {@code lane << 16} and {@code lane & 0xFFFF0000} are those two elements as exact floats. So one load
 * gives 2L weights in {@link VectorLayout#SPLIT} order with two integer operations and no conversion.
 */
final class Bf16Matrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int HIGH_HALF = 0xFFFF0000;
    private static final int CHUNK = 2 * L;          // elements per int vector
    private static final long CHUNK_BYTES = 4L * L;  // bytes per int vector

    private final Bf16Tensor tensor;
    private final MemorySegment data;
    private final long offset;

    Bf16Matrix(Bf16Tensor tensor, long offset, int rows, int cols) {
        super(rows, cols);
        this.tensor = tensor;
        this.data = tensor.segment();
        this.offset = offset;
    }

    @Override
    public VectorLayout dotLayout() {
        return VectorLayout.SPLIT;
    }

    @Override
    public VectorLayout decodeLayout() {
        return VectorLayout.SPLIT;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = (offset + (long) row * cols) * 2;
        int chunks = cols / CHUNK;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        int c = 0;
        for (; c + 4 <= chunks; c += 4) {
            long p = base + c * CHUNK_BYTES;
            int xi = xOffset + c * CHUNK;
            IntVector v0 = IntVector.fromMemorySegment(I, data, p, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, data, p + CHUNK_BYTES, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, data, p + 2 * CHUNK_BYTES, LE);
            IntVector v3 = IntVector.fromMemorySegment(I, data, p + 3 * CHUNK_BYTES, LE);
            a0 = even(v0).fma(FloatVector.fromArray(F, x, xi), a0);
            a1 = odd(v0).fma(FloatVector.fromArray(F, x, xi + L), a1);
            a2 = even(v1).fma(FloatVector.fromArray(F, x, xi + 2 * L), a2);
            a3 = odd(v1).fma(FloatVector.fromArray(F, x, xi + 3 * L), a3);
            a4 = even(v2).fma(FloatVector.fromArray(F, x, xi + 4 * L), a4);
            a5 = odd(v2).fma(FloatVector.fromArray(F, x, xi + 5 * L), a5);
            a6 = even(v3).fma(FloatVector.fromArray(F, x, xi + 6 * L), a6);
            a7 = odd(v3).fma(FloatVector.fromArray(F, x, xi + 7 * L), a7);
        }
        for (; c < chunks; c++) {
            IntVector v = IntVector.fromMemorySegment(I, data, base + c * CHUNK_BYTES, LE);
            int xi = xOffset + c * CHUNK;
            a0 = even(v).fma(FloatVector.fromArray(F, x, xi), a0);
            a1 = odd(v).fma(FloatVector.fromArray(F, x, xi + L), a1);
        }
        float sum = a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
        long first = offset + (long) row * cols;
        for (int k = chunks * CHUNK; k < cols; k++) sum += tensor.getFloat(first + k) * x[xOffset + k];
        return sum;
    }

    @Override
    public void decode(int row, int count, float[] dst, int dstOffset) {
        int chunks = cols / CHUNK;
        for (int r = 0; r < count; r++) {
            long base = (offset + (long) (row + r) * cols) * 2;
            int out = dstOffset + r * cols;
            for (int c = 0; c < chunks; c++) {
                IntVector v = IntVector.fromMemorySegment(I, data, base + c * CHUNK_BYTES, LE);
                even(v).intoArray(dst, out + c * CHUNK);
                odd(v).intoArray(dst, out + c * CHUNK + L);
            }
            long first = offset + (long) (row + r) * cols;
            for (int k = chunks * CHUNK; k < cols; k++) dst[out + k] = tensor.getFloat(first + k);
        }
    }

    private static FloatVector even(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector odd(IntVector v) {
        return v.and(HIGH_HALF).reinterpretAsFloats();
    }

    @Override
    public double rowBytes() {
        return 2.0 * cols;
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        return tensor.dotScalar(offset + (long) row * cols, x, xOffset, cols);
    }
}
