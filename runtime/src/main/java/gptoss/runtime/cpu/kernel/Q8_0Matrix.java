package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.Q8_0Tensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * ggml Q8_0 rows (34-byte blocks: fp16 scale d, 32 int8 q) read where they lie, activations in natural order.
 * In the package's summation order: L signed bytes widen to L floats in one conversion ({@code B2F}, exact) and
 * are multiplied by d (exact: 11 + 8 significant bits), then element k goes to lane k mod L by one FMA, in
 * increasing k; {@link Lanes#sum} folds the lanes. {@link #dot8} reads eight rows side by side, sharing the loads
 * of x (eight streams keep enough reads in flight, and eight FMA chains keep the FMA units busy). Where
 * {@link GgmlKernels} loaded, the native kernels compute the same bits (about twice as fast from memory).
 * Vector code is written out in each kernel, without helpers taking or returning vectors (the JIT boxes vectors
 * passed to calls it does not inline).
 */
final class Q8_0Matrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort SCALE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final int BLOCK = Q8_0Tensor.BLOCK;
    private static final long BLOCK_BYTES = Q8_0Tensor.BLOCK_BYTES;
    private static final int CHUNKS = BLOCK / L;   // vectors per block: 2 (AVX-512) or 4 (AVX2)

    private final Q8_0Tensor tensor;
    private final MemorySegment data;
    private final long firstBlock;
    private final int blocksPerRow;
    private final long rowBytes;
    private final boolean nativeKernel;
    private final long address;     // of the tensor's data, for the native kernels

    /** The native kernels where {@link GgmlKernels} has them (and the tensor is off-heap), else the Java ones. */
    Q8_0Matrix(Q8_0Tensor tensor, long offset, int rows, int cols) {
        this(tensor, offset, rows, cols, true);
    }

    /** With {@code nativeKernel} false, always the Java Vector API kernels (tests run both). */
    Q8_0Matrix(Q8_0Tensor tensor, long offset, int rows, int cols, boolean nativeKernel) {
        super(rows, cols);
        if (offset % BLOCK != 0 || cols % BLOCK != 0) throw new IllegalArgumentException("Q8_0 matrix must be block aligned");
        this.tensor = tensor;
        this.data = tensor.segment();
        this.firstBlock = offset / BLOCK;
        this.blocksPerRow = cols / BLOCK;
        this.rowBytes = blocksPerRow * BLOCK_BYTES;
        this.nativeKernel = nativeKernel && GgmlKernels.enabled() && data.isNative();
        this.address = this.nativeKernel ? data.address() : 0;
    }

    /** Whether the native kernels compute {@link #dot} and {@link #dot8}. */
    boolean isNative() {
        return nativeKernel;
    }

    /** This matrix with the Java kernels only. */
    Q8_0Matrix javaKernels() {
        return new Q8_0Matrix(tensor, firstBlock * BLOCK, rows, cols, false);
    }

    @Override
    public VectorLayout dotLayout() {
        return VectorLayout.NATURAL;
    }

    @Override
    public VectorLayout decodeLayout() {
        return VectorLayout.NATURAL;
    }

    private long rowStart(int row) {
        return (firstBlock + (long) row * blocksPerRow) * BLOCK_BYTES;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        Objects.checkIndex(row, rows);
        long p = rowStart(row);
        if (nativeKernel) {
            Objects.checkFromIndexSize(xOffset, cols, x.length);
            return GgmlKernels.q8Dot(address + p, blocksPerRow, x, xOffset);
        }
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < blocksPerRow; g++, p += BLOCK_BYTES) {
            int xi = xOffset + g * BLOCK;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p)));
            for (int c = 0; c < CHUNKS; c++) {
                acc = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, p + 2 + (long) c * L, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(d).fma(FloatVector.fromArray(F, x, xi + c * L), acc);
            }
        }
        return Lanes.sum(acc);
    }

    /**
     * Native passes take adjacent rows and prefetch the next pass's while they compute: from memory that beat eight
     * spread streams (one core, 512 MB: Q8_0 33 against 24 GB/s, MXFP4 23 against 20; README, GGUF). The Java
     * kernels, which cannot prefetch, read eight spread streams.
     */
    @Override
    boolean readsPassRowsTogether() {
        return !nativeKernel;
    }

    /** Natively, the whole range in one call (the same passes and rows as {@link WeightMatrix#dotRows}). */
    @Override
    public void dotRows(int from, int to, float[] x, int xOffset, float[] out, int outOffset, float[] pass) {
        if (!nativeKernel) {
            super.dotRows(from, to, x, xOffset, out, outOffset, pass);
            return;
        }
        Objects.checkFromToIndex(from, to, rows);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
        Objects.checkFromToIndex(outOffset + from, outOffset + to, out.length);
        GgmlKernels.q8Rows(address + rowStart(0), rowBytes, from, to, blocksPerRow, x, xOffset, out, outOffset);
    }

    @Override
    public void dot8(int row, int stride, float[] x, int xOffset, float[] out, int outOffset) {
        Objects.checkIndex(row, rows);
        Objects.checkIndex(row + (PASS_ROWS - 1) * stride, rows);
        long p = rowStart(row), step = rowBytes * stride;
        if (nativeKernel) {
            Objects.checkFromIndexSize(xOffset, cols, x.length);
            Objects.checkFromIndexSize(outOffset, PASS_ROWS, out.length);
            // adjacent rows: the next pass (dotRows) reads the eight rows after these, so prefetch them meanwhile
            long next = stride == 1 ? address + p + PASS_ROWS * rowBytes : 0;
            GgmlKernels.q8Dot8(address + p, address + p + step, 2 * step, blocksPerRow, x, xOffset, out, outOffset,
                    next, 0, stride == 1 ? PASS_ROWS * BLOCK_BYTES : 0);
        } else {
            dot8(data, p, data, p + step, 2 * step, x, xOffset, out, outOffset);
        }
    }

    /**
     * Rows {@code row .. row+3} of this matrix and of {@code odd} as eight interleaved rows (this, odd, this, ...):
     * GGUF's gate and up expert matrices as the (gate, linear) pairs of {@link PairedRowsMatrix}, in one pass.
     */
    void dot8Paired(Q8_0Matrix odd, int row, float[] x, int xOffset, float[] out, int outOffset) {
        Objects.checkIndex(row + PASS_ROWS / 2 - 1, rows);
        Objects.checkIndex(row + PASS_ROWS / 2 - 1, odd.rows);
        if (odd.blocksPerRow != blocksPerRow) throw new IllegalArgumentException("paired rows of different widths");
        long pa = rowStart(row), pb = odd.rowStart(row);
        if (nativeKernel && odd.nativeKernel) {
            Objects.checkFromIndexSize(xOffset, cols, x.length);
            Objects.checkFromIndexSize(outOffset, PASS_ROWS, out.length);
            // the next pass reads the four pairs after these: prefetch them meanwhile
            long ahead = PASS_ROWS / 2 * rowBytes;
            GgmlKernels.q8Dot8(address + pa, odd.address + pb, rowBytes, blocksPerRow, x, xOffset, out, outOffset,
                    address + pa + ahead, odd.address + pb + ahead, PASS_ROWS / 2 * BLOCK_BYTES);
        } else {
            dot8(data, pa, odd.data, pb, rowBytes, x, xOffset, out, outOffset);
        }
    }

    /** The Java kernel of eight rows: row 2i at {@code sa[pa + i·step]}, row 2i+1 at {@code sb[pb + i·step]}. */
    private void dot8(MemorySegment sa, long pa, MemorySegment sb, long pb, long step, float[] x, int xOffset, float[] out, int outOffset) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        for (int g = 0; g < blocksPerRow; g++) {
            int xi = xOffset + g * BLOCK;
            long q0 = pa + g * BLOCK_BYTES;
            long q1 = pb + g * BLOCK_BYTES;
            long q2 = pa + step + g * BLOCK_BYTES;
            long q3 = pb + step + g * BLOCK_BYTES;
            long q4 = pa + 2 * step + g * BLOCK_BYTES;
            long q5 = pb + 2 * step + g * BLOCK_BYTES;
            long q6 = pa + 3 * step + g * BLOCK_BYTES;
            long q7 = pb + 3 * step + g * BLOCK_BYTES;
            FloatVector d0 = FloatVector.broadcast(F, Float.float16ToFloat(sa.get(SCALE, q0)));
            FloatVector d1 = FloatVector.broadcast(F, Float.float16ToFloat(sb.get(SCALE, q1)));
            FloatVector d2 = FloatVector.broadcast(F, Float.float16ToFloat(sa.get(SCALE, q2)));
            FloatVector d3 = FloatVector.broadcast(F, Float.float16ToFloat(sb.get(SCALE, q3)));
            FloatVector d4 = FloatVector.broadcast(F, Float.float16ToFloat(sa.get(SCALE, q4)));
            FloatVector d5 = FloatVector.broadcast(F, Float.float16ToFloat(sb.get(SCALE, q5)));
            FloatVector d6 = FloatVector.broadcast(F, Float.float16ToFloat(sa.get(SCALE, q6)));
            FloatVector d7 = FloatVector.broadcast(F, Float.float16ToFloat(sb.get(SCALE, q7)));
            for (int c = 0; c < CHUNKS; c++) {
                FloatVector xv = FloatVector.fromArray(F, x, xi + c * L);
                long o = 2 + (long) c * L;
                a0 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sa, q0 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d0).fma(xv, a0);
                a1 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sb, q1 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d1).fma(xv, a1);
                a2 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sa, q2 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d2).fma(xv, a2);
                a3 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sb, q3 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d3).fma(xv, a3);
                a4 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sa, q4 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d4).fma(xv, a4);
                a5 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sb, q5 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d5).fma(xv, a5);
                a6 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sa, q6 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d6).fma(xv, a6);
                a7 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sb, q7 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d7).fma(xv, a7);
            }
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
        int b0 = col / BLOCK, b1 = (col + n) / BLOCK;
        for (int r = 0; r < count; r++) {
            long p = (firstBlock + (long) (row + r) * blocksPerRow + b0) * BLOCK_BYTES;
            int o = dstOffset + r * dstStride;
            for (int g = b0; g < b1; g++, p += BLOCK_BYTES, o += BLOCK) {
                FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p)));
                for (int c = 0; c < CHUNKS; c++) {
                    ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, p + 2 + (long) c * L, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, o + c * L);
                }
            }
        }
    }

    @Override
    public double rowBytes() {
        return rowBytes;
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        return tensor.dotScalar((firstBlock + (long) row * blocksPerRow) * BLOCK, x, xOffset, cols);
    }
}
