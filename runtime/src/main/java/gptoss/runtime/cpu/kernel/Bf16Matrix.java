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
 * Vector code is written out in each kernel (no helpers taking or returning vectors, which the JIT may leave
 * un-inlined and then boxes).
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
        // One chunk per iteration and no other vector code in this method: the JIT must inline every vector
        // operation (or it boxes them) and stops inlining in methods that grow too large. Two accumulators
        // already keep ahead of memory.
        FloatVector even = FloatVector.zero(F), odd = FloatVector.zero(F);
        for (int c = 0; c < chunks; c++) {
            IntVector v = IntVector.fromMemorySegment(I, data, base + c * CHUNK_BYTES, LE);
            int xi = xOffset + c * CHUNK;
            even = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi), even);
            odd = v.and(HIGH_HALF).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + L), odd);
        }
        float sum = even.add(odd).reduceLanes(VectorOperators.ADD);
        return chunks * CHUNK == cols ? sum : sum + tail(row, chunks * CHUNK, x, xOffset);
    }

    /** Elements after the last whole chunk, in natural order. */
    private float tail(int row, int from, float[] x, int xOffset) {
        long first = offset + (long) row * cols;
        float sum = 0f;
        for (int k = from; k < cols; k++) sum += tensor.getFloat(first + k) * x[xOffset + k];
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
                v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, out + c * CHUNK);
                v.and(HIGH_HALF).reinterpretAsFloats().intoArray(dst, out + c * CHUNK + L);
            }
            long first = offset + (long) (row + r) * cols;
            for (int k = chunks * CHUNK; k < cols; k++) dst[out + k] = tensor.getFloat(first + k);
        }
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
