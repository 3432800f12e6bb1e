package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.Q8_0Tensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * ggml Q8_0 rows (34-byte blocks: fp16 scale d, 32 int8 q) read where they lie, activations in natural order.
 * In the package's summation order: L signed bytes widen to L floats in one conversion ({@code B2F}, exact) and
 * are multiplied by d (exact: 11 + 8 significant bits), then element k goes to lane k mod L by one FMA, in
 * increasing k; {@link Lanes#sum} folds the lanes. {@link #dot8} reads eight rows side by side, sharing the loads
 * of x (eight streams keep enough reads in flight, and eight FMA chains keep the FMA units busy). Where
 * {@link GgmlKernels} loaded, the native kernels compute the same bits (about twice as fast from memory;
 * {@link GgmlBlockMatrix} calls them).
 * Vector code is written out in each kernel, without helpers taking or returning vectors (the JIT boxes vectors
 * passed to calls it does not inline).
 */
final class Q8_0Matrix extends GgmlBlockMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort SCALE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final long BLOCK_BYTES = Q8_0Tensor.BLOCK_BYTES;
    private static final int CHUNKS = BLOCK / L;   // vectors per block: 2 (AVX-512) or 4 (AVX2)

    private final Q8_0Tensor tensor;

    /** The native kernels where {@link GgmlKernels} has them (and the tensor is off-heap), else the Java ones. */
    Q8_0Matrix(Q8_0Tensor tensor, long offset, int rows, int cols) {
        this(tensor, offset, rows, cols, true);
    }

    private Q8_0Matrix(Q8_0Tensor tensor, long offset, int rows, int cols, boolean nativeKernel) {
        super(tensor, tensor.segment(), BLOCK_BYTES, nativeKernel, offset, rows, cols);
        this.tensor = tensor;
    }

    @Override
    Q8_0Matrix javaKernels() {
        return new Q8_0Matrix(tensor, firstBlock * BLOCK, rows, cols, false);
    }

    @Override
    GgmlKernels kernels() {
        return GgmlKernels.Q8_0;
    }

    @Override
    float javaDot(long p, float[] x, int xOffset) {
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

    @Override
    boolean javaPasses() {
        return true;
    }

    @Override
    void javaDot8(MemorySegment sa, long pa, MemorySegment sb, long pb, long step, float[] x, int xOffset, float[] out, int outOffset) {
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
            long p = blockStart(row + r, b0);
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
}
