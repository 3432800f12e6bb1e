package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.GgmlMxfp4Tensor;
import gptoss.model.tensor.Mxfp4Tensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.I;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * MXFP4 rows in ggml's 17-byte blocks (exponent byte e, then 16 bytes whose low nibbles are elements 0..15 and high
 * nibbles elements 16..31), decoded in registers, activations in natural order. In the package's summation order:
 * per block the table of the 16 FP4 values is multiplied by the block's scale 2^(e−127) ({@link Mxfp4Tensor#E8M0},
 * so every weight is exactly its {@link GgmlMxfp4Tensor#getFloat}, scale bytes 0 and 255 included); the code bytes
 * widen to int lanes and {@code selectFrom} looks the low nibbles up in the scaled table (indices wrap to the
 * table, so no masking), then the high nibbles after a shift by 4: elements 0..15, then 16..31, each to lane
 * k mod L by one FMA; {@link Lanes#sum} folds the lanes. {@link #dot8} reads eight rows side by side (with L = 16;
 * row by row otherwise). Where {@link GgmlKernels} loaded, the native kernels compute the same bits.
 */
final class GgmlMxfp4Matrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int BLOCK = GgmlMxfp4Tensor.BLOCK;
    private static final long BLOCK_BYTES = GgmlMxfp4Tensor.BLOCK_BYTES;
    private static final float[] E8M0 = Mxfp4Tensor.E8M0;
    private static final FloatVector TABLE;          // FP4 codes 0..L-1 (all 16 when L = 16)
    private static final FloatVector TABLE_HIGH;     // codes 8..15 when L = 8

    static {
        float[] fp4 = new float[Math.max(16, L)];
        for (int i = 0; i < fp4.length; i++) fp4[i] = Mxfp4Tensor.FP4[i & 15];
        TABLE = FloatVector.fromArray(F, fp4, 0);
        TABLE_HIGH = L == 8 ? FloatVector.fromArray(F, fp4, 8) : TABLE;
    }

    private final GgmlMxfp4Tensor tensor;
    private final MemorySegment data;
    private final long firstBlock;
    private final int blocksPerRow;
    private final long rowBytes;
    private final boolean nativeKernel;
    private final long address;     // of the tensor's data, for the native kernels

    /** The native kernels where {@link GgmlKernels} has them (and the tensor is off-heap), else the Java ones. */
    GgmlMxfp4Matrix(GgmlMxfp4Tensor tensor, long offset, int rows, int cols) {
        this(tensor, offset, rows, cols, true);
    }

    /** With {@code nativeKernel} false, always the Java Vector API kernels (tests run both). */
    GgmlMxfp4Matrix(GgmlMxfp4Tensor tensor, long offset, int rows, int cols, boolean nativeKernel) {
        super(rows, cols);
        if (offset % BLOCK != 0 || cols % BLOCK != 0) throw new IllegalArgumentException("MXFP4 matrix must be block aligned");
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
    GgmlMxfp4Matrix javaKernels() {
        return new GgmlMxfp4Matrix(tensor, firstBlock * BLOCK, rows, cols, false);
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
            return GgmlKernels.mxfp4Dot(address + p, blocksPerRow, x, xOffset);
        }
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < blocksPerRow; g++, p += BLOCK_BYTES) {
            int xi = xOffset + g * BLOCK;
            float scale = E8M0[data.get(ValueLayout.JAVA_BYTE, p) & 0xFF];
            if (L == 16) {
                IntVector t = TABLE.mul(scale).reinterpretAsInts();
                IntVector v = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, p + 1, LE).convertShape(VectorOperators.B2I, I, 0);
                acc = v.selectFrom(t).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi), acc);
                acc = v.lanewise(VectorOperators.LSHR, 4).selectFrom(t).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + 16), acc);
            } else {
                // L = 8: elements 0..7, 8..15 (low nibbles of bytes 0..7, 8..15), then 16..23, 24..31 (high nibbles).
                IntVector tl = TABLE.mul(scale).reinterpretAsInts(), th = TABLE_HIGH.mul(scale).reinterpretAsInts();
                for (int n = 0; n < 4; n++) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, p + 1 + 8L * (n & 1), LE).convertShape(VectorOperators.B2I, I, 0);
                    if (n >= 2) v = v.lanewise(VectorOperators.LSHR, 4);
                    acc = v.selectFrom(tl, th).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + 8 * n), acc);
                }
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
        GgmlKernels.mxfp4Rows(address + rowStart(0), rowBytes, from, to, blocksPerRow, x, xOffset, out, outOffset);
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
            GgmlKernels.mxfp4Dot8(address + p, address + p + step, 2 * step, blocksPerRow, x, xOffset, out, outOffset,
                    next, 0, stride == 1 ? PASS_ROWS * BLOCK_BYTES : 0);
        } else if (L == 16) {
            dot8(data, p, data, p + step, 2 * step, x, xOffset, out, outOffset);
        } else {
            super.dot8(row, stride, x, xOffset, out, outOffset);
        }
    }

    /**
     * Rows {@code row .. row+3} of this matrix and of {@code odd} as eight interleaved rows (this, odd, this, ...):
     * GGUF's gate and up expert matrices as the (gate, linear) pairs of {@link PairedRowsMatrix}, in one pass.
     */
    void dot8Paired(GgmlMxfp4Matrix odd, int row, float[] x, int xOffset, float[] out, int outOffset) {
        Objects.checkIndex(row + PASS_ROWS / 2 - 1, rows);
        Objects.checkIndex(row + PASS_ROWS / 2 - 1, odd.rows);
        if (odd.blocksPerRow != blocksPerRow) throw new IllegalArgumentException("paired rows of different widths");
        long pa = rowStart(row), pb = odd.rowStart(row);
        if (nativeKernel && odd.nativeKernel) {
            Objects.checkFromIndexSize(xOffset, cols, x.length);
            Objects.checkFromIndexSize(outOffset, PASS_ROWS, out.length);
            // the next pass reads the four pairs after these: prefetch them meanwhile
            long ahead = PASS_ROWS / 2 * rowBytes;
            GgmlKernels.mxfp4Dot8(address + pa, odd.address + pb, rowBytes, blocksPerRow, x, xOffset, out, outOffset,
                    address + pa + ahead, odd.address + pb + ahead, PASS_ROWS / 2 * BLOCK_BYTES);
        } else if (L == 16) {
            dot8(data, pa, odd.data, pb, rowBytes, x, xOffset, out, outOffset);
        } else {
            for (int i = 0; i < PASS_ROWS; i++) out[outOffset + i] = ((i & 1) == 0 ? this : odd).dot(row + i / 2, x, xOffset);
        }
    }

    /** The Java kernel of eight rows (L = 16): row 2i at {@code sa[pa + i·step]}, row 2i+1 at {@code sb[pb + i·step]}. */
    private void dot8(MemorySegment sa, long pa, MemorySegment sb, long pb, long step, float[] x, int xOffset, float[] out, int outOffset) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        for (int g = 0; g < blocksPerRow; g++) {
            int xi = xOffset + g * BLOCK;
            FloatVector x0 = FloatVector.fromArray(F, x, xi), x1 = FloatVector.fromArray(F, x, xi + 16);
            long q0 = pa + g * BLOCK_BYTES;
            long q1 = pb + g * BLOCK_BYTES;
            long q2 = pa + step + g * BLOCK_BYTES;
            long q3 = pb + step + g * BLOCK_BYTES;
            long q4 = pa + 2 * step + g * BLOCK_BYTES;
            long q5 = pb + 2 * step + g * BLOCK_BYTES;
            long q6 = pa + 3 * step + g * BLOCK_BYTES;
            long q7 = pb + 3 * step + g * BLOCK_BYTES;
            IntVector t0 = TABLE.mul(E8M0[sa.get(ValueLayout.JAVA_BYTE, q0) & 0xFF]).reinterpretAsInts();
            IntVector v0 = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sa, q0 + 1, LE).convertShape(VectorOperators.B2I, I, 0);
            a0 = v0.selectFrom(t0).reinterpretAsFloats().fma(x0, a0);
            a0 = v0.lanewise(VectorOperators.LSHR, 4).selectFrom(t0).reinterpretAsFloats().fma(x1, a0);
            IntVector t1 = TABLE.mul(E8M0[sb.get(ValueLayout.JAVA_BYTE, q1) & 0xFF]).reinterpretAsInts();
            IntVector v1 = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sb, q1 + 1, LE).convertShape(VectorOperators.B2I, I, 0);
            a1 = v1.selectFrom(t1).reinterpretAsFloats().fma(x0, a1);
            a1 = v1.lanewise(VectorOperators.LSHR, 4).selectFrom(t1).reinterpretAsFloats().fma(x1, a1);
            IntVector t2 = TABLE.mul(E8M0[sa.get(ValueLayout.JAVA_BYTE, q2) & 0xFF]).reinterpretAsInts();
            IntVector v2 = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sa, q2 + 1, LE).convertShape(VectorOperators.B2I, I, 0);
            a2 = v2.selectFrom(t2).reinterpretAsFloats().fma(x0, a2);
            a2 = v2.lanewise(VectorOperators.LSHR, 4).selectFrom(t2).reinterpretAsFloats().fma(x1, a2);
            IntVector t3 = TABLE.mul(E8M0[sb.get(ValueLayout.JAVA_BYTE, q3) & 0xFF]).reinterpretAsInts();
            IntVector v3 = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sb, q3 + 1, LE).convertShape(VectorOperators.B2I, I, 0);
            a3 = v3.selectFrom(t3).reinterpretAsFloats().fma(x0, a3);
            a3 = v3.lanewise(VectorOperators.LSHR, 4).selectFrom(t3).reinterpretAsFloats().fma(x1, a3);
            IntVector t4 = TABLE.mul(E8M0[sa.get(ValueLayout.JAVA_BYTE, q4) & 0xFF]).reinterpretAsInts();
            IntVector v4 = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sa, q4 + 1, LE).convertShape(VectorOperators.B2I, I, 0);
            a4 = v4.selectFrom(t4).reinterpretAsFloats().fma(x0, a4);
            a4 = v4.lanewise(VectorOperators.LSHR, 4).selectFrom(t4).reinterpretAsFloats().fma(x1, a4);
            IntVector t5 = TABLE.mul(E8M0[sb.get(ValueLayout.JAVA_BYTE, q5) & 0xFF]).reinterpretAsInts();
            IntVector v5 = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sb, q5 + 1, LE).convertShape(VectorOperators.B2I, I, 0);
            a5 = v5.selectFrom(t5).reinterpretAsFloats().fma(x0, a5);
            a5 = v5.lanewise(VectorOperators.LSHR, 4).selectFrom(t5).reinterpretAsFloats().fma(x1, a5);
            IntVector t6 = TABLE.mul(E8M0[sa.get(ValueLayout.JAVA_BYTE, q6) & 0xFF]).reinterpretAsInts();
            IntVector v6 = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sa, q6 + 1, LE).convertShape(VectorOperators.B2I, I, 0);
            a6 = v6.selectFrom(t6).reinterpretAsFloats().fma(x0, a6);
            a6 = v6.lanewise(VectorOperators.LSHR, 4).selectFrom(t6).reinterpretAsFloats().fma(x1, a6);
            IntVector t7 = TABLE.mul(E8M0[sb.get(ValueLayout.JAVA_BYTE, q7) & 0xFF]).reinterpretAsInts();
            IntVector v7 = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, sb, q7 + 1, LE).convertShape(VectorOperators.B2I, I, 0);
            a7 = v7.selectFrom(t7).reinterpretAsFloats().fma(x0, a7);
            a7 = v7.lanewise(VectorOperators.LSHR, 4).selectFrom(t7).reinterpretAsFloats().fma(x1, a7);
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
                float scale = E8M0[data.get(ValueLayout.JAVA_BYTE, p) & 0xFF];
                if (L == 16) {
                    IntVector t = TABLE.mul(scale).reinterpretAsInts();
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, p + 1, LE).convertShape(VectorOperators.B2I, I, 0);
                    v.selectFrom(t).reinterpretAsFloats().intoArray(dst, o);
                    v.lanewise(VectorOperators.LSHR, 4).selectFrom(t).reinterpretAsFloats().intoArray(dst, o + 16);
                } else {
                    IntVector tl = TABLE.mul(scale).reinterpretAsInts(), th = TABLE_HIGH.mul(scale).reinterpretAsInts();
                    for (int q = 0; q < 4; q++) {
                        IntVector v = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, p + 1 + 8L * (q & 1), LE).convertShape(VectorOperators.B2I, I, 0);
                        if (q >= 2) v = v.lanewise(VectorOperators.LSHR, 4);
                        v.selectFrom(tl, th).reinterpretAsFloats().intoArray(dst, o + 8 * q);
                    }
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
