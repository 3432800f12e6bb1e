package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.F16Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.I;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * IEEE binary16 rows read as int vectors, as {@link Bf16Matrix} reads BF16: each int lane holds an even element
 * (low half) and the next odd one (high half), so activations come in {@link VectorLayout#SPLIT} order. A half
 * becomes a float with integer operations: its exponent and mantissa bits shifted into float position
 * ({@code (h & 0x7FFF) << 13}) read as a float and multiplied by 2^112 rebias the exponent exactly, subnormal
 * halves included; the sign bit is put back with an OR. (Infinities and NaNs, which weights do not hold, would
 * come out as large finite values here; {@link F16Tensor#getFloat} decodes them.) Products follow the package's
 * summation order (one FMA per element into lane {@code position mod L}, then {@link Lanes#sum}).
 */
final class F16Matrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int CHUNK = 2 * L;          // elements per int vector
    private static final long CHUNK_BYTES = 4L * L;  // bytes per int vector
    private static final float REBIAS = 0x1p112f;
    private static final int MAGNITUDE_HIGH = 0x7FFF << 13;

    private final F16Tensor tensor;
    private final MemorySegment data;
    private final long offset;

    F16Matrix(F16Tensor tensor, long offset, int rows, int cols) {
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
        // Split order: the L even elements of a chunk sit at positions 2L·c + i, the odd ones at 2L·c + L + i, so
        // both go to lane i, even first (the package's summation order).
        FloatVector acc = FloatVector.zero(F);
        for (int c = 0; c < chunks; c++) {
            IntVector v = IntVector.fromMemorySegment(I, data, base + c * CHUNK_BYTES, LE);
            int xi = xOffset + c * CHUNK;
            FloatVector even = v.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(REBIAS)
                    .reinterpretAsInts().or(v.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
            FloatVector odd = v.lanewise(VectorOperators.LSHR, 3).and(MAGNITUDE_HIGH).reinterpretAsFloats().mul(REBIAS)
                    .reinterpretAsInts().or(v.and(0x80000000)).reinterpretAsFloats();
            acc = even.fma(FloatVector.fromArray(F, x, xi), acc);
            acc = odd.fma(FloatVector.fromArray(F, x, xi + L), acc);
        }
        if (chunks * CHUNK == cols) return Lanes.sum(acc);
        // A tail shorter than one chunk stays in natural order: element k at position k, lane k mod L.
        float[] lanes = acc.toArray();
        long first = offset + (long) row * cols;
        for (int k = chunks * CHUNK; k < cols; k++) lanes[k % L] = Math.fma(tensor.getFloat(first + k), x[xOffset + k], lanes[k % L]);
        return Lanes.sum(lanes, 0);
    }

    @Override
    public void decode(int row, int count, int col, int n, float[] dst, int dstOffset, int dstStride) {
        int end = col + n, vectorEnd = Math.min(end, cols / CHUNK * CHUNK);
        for (int r = 0; r < count; r++) {
            long first = offset + (long) (row + r) * cols;
            int out = dstOffset + r * dstStride - col;
            int c = col;
            for (; c + CHUNK <= vectorEnd; c += CHUNK) {
                IntVector v = IntVector.fromMemorySegment(I, data, (first + c) * 2, LE);
                v.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(REBIAS)
                        .reinterpretAsInts().or(v.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats()
                        .intoArray(dst, out + c);
                v.lanewise(VectorOperators.LSHR, 3).and(MAGNITUDE_HIGH).reinterpretAsFloats().mul(REBIAS)
                        .reinterpretAsInts().or(v.and(0x80000000)).reinterpretAsFloats()
                        .intoArray(dst, out + c + L);
            }
            for (; c < end; c++) dst[out + c] = tensor.getFloat(first + c);
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
