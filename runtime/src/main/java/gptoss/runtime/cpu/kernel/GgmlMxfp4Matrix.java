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
final class GgmlMxfp4Matrix extends GgmlBlockMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
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

    /** The native kernels where {@link GgmlKernels} has them (and the tensor is off-heap), else the Java ones. */
    GgmlMxfp4Matrix(GgmlMxfp4Tensor tensor, long offset, int rows, int cols) {
        this(tensor, offset, rows, cols, true);
    }

    private GgmlMxfp4Matrix(GgmlMxfp4Tensor tensor, long offset, int rows, int cols, boolean nativeKernel) {
        super(tensor, tensor.segment(), BLOCK_BYTES, nativeKernel, offset, rows, cols);
        this.tensor = tensor;
    }

    @Override
    GgmlMxfp4Matrix javaKernels() {
        return new GgmlMxfp4Matrix(tensor, firstBlock * BLOCK, rows, cols, false);
    }

    @Override
    GgmlKernels kernels() {
        return GgmlKernels.MXFP4;
    }

    @Override
    float javaDot(long p, float[] x, int xOffset) {
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

    /** Eight rows side by side in Java with 16 lanes (the table fills one vector); row by row otherwise. */
    @Override
    boolean javaPasses() {
        return L == 16;
    }

    /** With L = 16. */
    @Override
    void javaDot8(MemorySegment sa, long pa, MemorySegment sb, long pb, long step, float[] x, int xOffset, float[] out, int outOffset) {
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
            long p = blockStart(row + r, b0);
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
}
