package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.Bf16Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Objects;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.I;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * BF16 rows read as int vectors: each int lane holds an even element (low half) and the next odd one (high
 * half); {@code lane << 16} and {@code lane & 0xFFFF0000} are those two elements as exact floats. So one load
 * gives 2L weights in {@link VectorLayout#SPLIT} order with two integer operations and no conversion.
 * The products follow the package's summation order: one accumulator vector per row,
 * {@code acc = fma(even, x_even, acc); acc = fma(odd, x_odd, acc)} per chunk of 2L elements, a shorter tail in
 * natural order (element p to lane p mod L), {@link Lanes#sum} at the end. {@link #dot8} reads eight rows per pass:
 * sharing the loads of x and running eight streams lets a core keep enough weight reads in flight.
 * Where the build compiled it (AVX-512), {@link #dot}, {@link #dot8} and {@link #dotRows} run the native kernel
 * ({@link NativeKernels}, same order and bits, with software prefetch); the Java loops stay the tested fallback.
 * Vector code is written out in each kernel (no helpers taking or returning vectors, which the JIT may leave
 * un-inlined and then boxes).
 */
final class Bf16Matrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int HIGH_HALF = 0xFFFF0000;
    private static final int CHUNK = 2 * L;          // elements per int vector
    private static final long CHUNK_BYTES = 4L * L;  // bytes per int vector
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L));

    private final Bf16Tensor tensor;
    private final MemorySegment data;
    private final long offset;
    private final boolean nativeKernel;
    private final long address;   // of the whole tensor, for the native kernel

    Bf16Matrix(Bf16Tensor tensor, long offset, int rows, int cols) {
        this(tensor, offset, rows, cols, NativeKernels.available());
    }

    /** With {@code nativeKernel} false, always the Java Vector API kernels (tests run both). */
    Bf16Matrix(Bf16Tensor tensor, long offset, int rows, int cols, boolean nativeKernel) {
        super(rows, cols);
        this.tensor = tensor;
        this.data = tensor.segment();
        this.offset = offset;
        if ((offset + (long) rows * cols) * 2 > data.byteSize()) {
            throw new IllegalArgumentException("BF16 matrix [" + rows + ", " + cols + "] exceeds its tensor");
        }
        this.nativeKernel = nativeKernel && NativeKernels.available() && data.isNative();
        this.address = this.nativeKernel ? data.address() : 0;
    }

    /** Whether the native kernel computes {@link #dot}, {@link #dot8} and {@link #dotRows}. */
    boolean isNative() {
        return nativeKernel;
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
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
        long first = offset + (long) row * cols;
        if (nativeKernel) return NativeKernels.bf16Dot(address, first, cols, x, xOffset);
        long base = first * 2;
        int chunks = cols / CHUNK;
        FloatVector acc = FloatVector.zero(F);
        for (int c = 0; c < chunks; c++) {
            IntVector v = IntVector.fromMemorySegment(I, data, base + c * CHUNK_BYTES, LE);
            int xi = xOffset + c * CHUNK;
            acc = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi), acc);
            acc = v.and(HIGH_HALF).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + L), acc);
        }
        // The tail (shorter than a chunk, natural order): element p to lane p mod L, by at most two masked FMAs
        // (lanes outside the row load 0 and add +0 · 0 to a lane that is never −0).
        for (int p = chunks * CHUNK; p < cols; p += L) {
            VectorMask<Float> m = F.indexInRange(p, cols);
            FloatVector w = ((IntVector) ShortVector.fromMemorySegment(S, data, base + 2L * p, LE, m.cast(S))
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc = w.fma(FloatVector.fromArray(F, x, xOffset + p, m), acc);
        }
        return Lanes.sum(acc);
    }

    @Override
    boolean readsPassRowsTogether() {
        return true;
    }

    @Override
    public void dotRows(int from, int to, float[] x, int xOffset, float[] out, int outOffset, float[] pass) {
        if (!nativeKernel) {
            super.dotRows(from, to, x, xOffset, out, outOffset, pass);
            return;
        }
        checkRowsCall(from, to, x, xOffset, out, outOffset);
        NativeKernels.bf16Rows(address, offset, cols, x, xOffset, from, to, out, outOffset);
    }

    @Override
    public void dot8(int row, int stride, float[] x, int xOffset, float[] out, int outOffset) {
        if (stride < 1) throw new IllegalArgumentException("stride " + stride);
        Objects.checkIndex(row, rows);
        Objects.checkIndex(row + (PASS_ROWS - 1) * (long) stride, rows);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
        Objects.checkFromIndexSize(outOffset, PASS_ROWS, out.length);
        if (nativeKernel) {
            NativeKernels.bf16Rows8(address, offset, cols, x, xOffset, row, stride, out, outOffset);
            return;
        }
        int chunks = cols / CHUNK;
        if (chunks * CHUNK != cols) { // a tail: rare (no real model has one), row by row
            for (int r = 0; r < PASS_ROWS; r++) out[outOffset + r] = dot(row + r * stride, x, xOffset);
            return;
        }
        long rowBytes = 2L * cols * stride, b = (offset + (long) row * cols) * 2;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        for (int c = 0; c < chunks; c++) {
            long q = b + c * CHUNK_BYTES;
            int xi = xOffset + c * CHUNK;
            FloatVector xe = FloatVector.fromArray(F, x, xi), xo = FloatVector.fromArray(F, x, xi + L);
            IntVector v = IntVector.fromMemorySegment(I, data, q, LE);
            a0 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a0));
            v = IntVector.fromMemorySegment(I, data, q + rowBytes, LE);
            a1 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a1));
            v = IntVector.fromMemorySegment(I, data, q + 2 * rowBytes, LE);
            a2 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a2));
            v = IntVector.fromMemorySegment(I, data, q + 3 * rowBytes, LE);
            a3 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a3));
            v = IntVector.fromMemorySegment(I, data, q + 4 * rowBytes, LE);
            a4 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a4));
            v = IntVector.fromMemorySegment(I, data, q + 5 * rowBytes, LE);
            a5 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a5));
            v = IntVector.fromMemorySegment(I, data, q + 6 * rowBytes, LE);
            a6 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a6));
            v = IntVector.fromMemorySegment(I, data, q + 7 * rowBytes, LE);
            a7 = v.and(HIGH_HALF).reinterpretAsFloats().fma(xo, v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a7));
        }
        out[outOffset] = Lanes.sum(a0);
        out[outOffset + 1] = Lanes.sum(a1);
        out[outOffset + 2] = Lanes.sum(a2);
        out[outOffset + 3] = Lanes.sum(a3);
        out[outOffset + 4] = Lanes.sum(a4);
        out[outOffset + 5] = Lanes.sum(a5);
        out[outOffset + 6] = Lanes.sum(a6);
        out[outOffset + 7] = Lanes.sum(a7);
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
