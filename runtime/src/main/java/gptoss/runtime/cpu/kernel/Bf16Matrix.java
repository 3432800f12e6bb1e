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
 * un-inlined and then boxes). {@link #dot8} reads eight rows per pass: sharing the loads of x and running eight
 * streams lets a core keep enough weight reads in flight (row by row reaches about 80 % of a streaming read).
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

    /** The stored bits, for {@link Bf16Kernels}. */
    MemorySegment segment() {
        return data;
    }

    /** Byte offset in {@link #segment()} of row r's first element. */
    long rowByte(int r) {
        return (offset + (long) r * cols) * 2;
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
        // The documented order: one accumulator, lane j summing positions p ≡ j (mod L) in increasing p, so the
        // even then the odd elements of each chunk. No other vector code here and no vector helpers: the JIT must
        // inline every vector operation (or it boxes them).
        FloatVector acc = FloatVector.zero(F);
        for (int c = 0; c < chunks; c++) {
            IntVector v = IntVector.fromMemorySegment(I, data, base + c * CHUNK_BYTES, LE);
            int xi = xOffset + c * CHUNK;
            acc = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi), acc);
            acc = v.and(HIGH_HALF).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + L), acc);
        }
        if (chunks * CHUNK == cols) return Lanes.sum(acc);
        // Elements after the last whole chunk stay in natural order: position = column, lane = column mod L.
        float[] lanes = new float[L];
        acc.intoArray(lanes, 0);
        long first = offset + (long) row * cols;
        for (int k = chunks * CHUNK; k < cols; k++) lanes[k % L] = Math.fma(tensor.getFloat(first + k), x[xOffset + k], lanes[k % L]);
        return Lanes.sum(lanes, 0);
    }

    @Override
    boolean readsPassRowsTogether() {
        return true;
    }

    @Override
    public void dot8(int row, int stride, float[] x, int xOffset, float[] out, int outOffset) {
        long rowBytes = 2L * cols * stride, b = (offset + (long) row * cols) * 2;
        int chunks = cols / CHUNK;
        FloatVector e0 = FloatVector.zero(F), o0 = FloatVector.zero(F), e1 = FloatVector.zero(F), o1 = FloatVector.zero(F);
        FloatVector e2 = FloatVector.zero(F), o2 = FloatVector.zero(F), e3 = FloatVector.zero(F), o3 = FloatVector.zero(F);
        FloatVector e4 = FloatVector.zero(F), o4 = FloatVector.zero(F), e5 = FloatVector.zero(F), o5 = FloatVector.zero(F);
        FloatVector e6 = FloatVector.zero(F), o6 = FloatVector.zero(F), e7 = FloatVector.zero(F), o7 = FloatVector.zero(F);
        for (int c = 0; c < chunks; c++) {
            long q = b + c * CHUNK_BYTES;
            int xi = xOffset + c * CHUNK;
            FloatVector xe = FloatVector.fromArray(F, x, xi), xo = FloatVector.fromArray(F, x, xi + L);
            IntVector v = IntVector.fromMemorySegment(I, data, q, LE);
            e0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e0);
            o0 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, o0);
            v = IntVector.fromMemorySegment(I, data, q + rowBytes, LE);
            e1 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e1);
            o1 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, o1);
            v = IntVector.fromMemorySegment(I, data, q + 2 * rowBytes, LE);
            e2 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e2);
            o2 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, o2);
            v = IntVector.fromMemorySegment(I, data, q + 3 * rowBytes, LE);
            e3 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e3);
            o3 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, o3);
            v = IntVector.fromMemorySegment(I, data, q + 4 * rowBytes, LE);
            e4 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e4);
            o4 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, o4);
            v = IntVector.fromMemorySegment(I, data, q + 5 * rowBytes, LE);
            e5 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e5);
            o5 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, o5);
            v = IntVector.fromMemorySegment(I, data, q + 6 * rowBytes, LE);
            e6 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e6);
            o6 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, o6);
            v = IntVector.fromMemorySegment(I, data, q + 7 * rowBytes, LE);
            e7 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e7);
            o7 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, o7);
        }
        out[outOffset] = e0.add(o0).reduceLanes(VectorOperators.ADD);
        out[outOffset + 1] = e1.add(o1).reduceLanes(VectorOperators.ADD);
        out[outOffset + 2] = e2.add(o2).reduceLanes(VectorOperators.ADD);
        out[outOffset + 3] = e3.add(o3).reduceLanes(VectorOperators.ADD);
        out[outOffset + 4] = e4.add(o4).reduceLanes(VectorOperators.ADD);
        out[outOffset + 5] = e5.add(o5).reduceLanes(VectorOperators.ADD);
        out[outOffset + 6] = e6.add(o6).reduceLanes(VectorOperators.ADD);
        out[outOffset + 7] = e7.add(o7).reduceLanes(VectorOperators.ADD);
        if (chunks * CHUNK != cols) {
            for (int r = 0; r < PASS_ROWS; r++) out[outOffset + r] += tail(row + r * stride, chunks * CHUNK, x, xOffset);
        }
    }

    /** Elements after the last whole chunk, in natural order. */
    private float tail(int row, int from, float[] x, int xOffset) {
        long first = offset + (long) row * cols;
        float sum = 0f;
        for (int k = from; k < cols; k++) sum += tensor.getFloat(first + k) * x[xOffset + k];
        return sum;
    }

    @Override
    public void decode(int row, int count, int col, int n, float[] dst, int dstOffset, int dstStride) {
        int end = col + n, vectorEnd = Math.max(col, Math.min(end, cols / CHUNK * CHUNK));
        long rowBytes = 2L * cols, base = (offset + (long) row * cols) * 2;
        // The rows side by side, one chunk of each in turn: several streams in flight, as dot8 reads them
        // (row after row, a thread reached about 10 GB/s from memory; this way about twice that).
        for (int c = col; c + CHUNK <= vectorEnd; c += CHUNK) {
            long p = base + 2L * c;
            int out = dstOffset + c - col;
            for (int r = 0; r < count; r++, p += rowBytes, out += dstStride) {
                IntVector v = IntVector.fromMemorySegment(I, data, p, LE);
                v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, out);
                v.and(HIGH_HALF).reinterpretAsFloats().intoArray(dst, out + L);
            }
        }
        for (int r = 0; r < count; r++) {
            long first = offset + (long) (row + r) * cols;
            for (int c = vectorEnd; c < end; c++) dst[dstOffset + r * dstStride + c - col] = tensor.getFloat(first + c);
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
