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
 * ggml Q8_0 rows (34-byte blocks: fp16 scale d, 32 int8 q) read where they lie. L signed bytes widen to L floats
 * in one conversion ({@code B2F}, exact); the 32 products q·x of a block are summed in fp32 and scaled once by d,
 * so activations stay fp32 and results are exact up to summation order. Activations in natural order.
 * {@link #dot8} reads eight rows side by side, sharing the loads of x (eight streams keep enough reads in flight,
 * as for BF16). Vector code is written out in each kernel, without helpers taking or returning vectors (the JIT
 * boxes vectors passed to calls it does not inline).
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

    Q8_0Matrix(Q8_0Tensor tensor, long offset, int rows, int cols) {
        super(rows, cols);
        if (offset % BLOCK != 0 || cols % BLOCK != 0) throw new IllegalArgumentException("Q8_0 matrix must be block aligned");
        this.tensor = tensor;
        this.data = tensor.segment();
        this.firstBlock = offset / BLOCK;
        this.blocksPerRow = cols / BLOCK;
    }

    @Override
    public VectorLayout dotLayout() {
        return VectorLayout.NATURAL;
    }

    @Override
    public VectorLayout decodeLayout() {
        return VectorLayout.NATURAL;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long p = (firstBlock + (long) row * blocksPerRow) * BLOCK_BYTES;
        // Two blocks per iteration into two accumulators (the scale FMA chains stay short).
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int g = 0;
        for (; g + 2 <= blocksPerRow; g += 2, p += 2 * BLOCK_BYTES) {
            int xi = xOffset + g * BLOCK;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
            for (int c = 0; c < CHUNKS; c++) {
                s0 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, p + 2 + (long) c * L, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xi + c * L), s0);
                s1 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, p + BLOCK_BYTES + 2 + (long) c * L, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xi + BLOCK + c * L), s1);
            }
            acc0 = s0.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p))), acc0);
            acc1 = s1.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p + BLOCK_BYTES))), acc1);
        }
        if (g < blocksPerRow) {
            int xi = xOffset + g * BLOCK;
            FloatVector s0 = FloatVector.zero(F);
            for (int c = 0; c < CHUNKS; c++) {
                s0 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, p + 2 + (long) c * L, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xi + c * L), s0);
            }
            acc0 = s0.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p))), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    @Override
    boolean readsPassRowsTogether() {
        return true;
    }

    @Override
    public void dot8(int row, int stride, float[] x, int xOffset, float[] out, int outOffset) {
        long rowBytes = blocksPerRow * BLOCK_BYTES * stride;
        long p0 = (firstBlock + (long) row * blocksPerRow) * BLOCK_BYTES;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        for (int g = 0; g < blocksPerRow; g++) {
            long p = p0 + g * BLOCK_BYTES;
            int xi = xOffset + g * BLOCK;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            FloatVector s4 = FloatVector.zero(F), s5 = FloatVector.zero(F), s6 = FloatVector.zero(F), s7 = FloatVector.zero(F);
            for (int c = 0; c < CHUNKS; c++) {
                FloatVector xv = FloatVector.fromArray(F, x, xi + c * L);
                long q = p + 2 + (long) c * L;
                s0 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, q, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, s0);
                s1 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, q + rowBytes, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, s1);
                s2 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, q + 2 * rowBytes, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, s2);
                s3 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, q + 3 * rowBytes, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, s3);
                s4 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, q + 4 * rowBytes, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, s4);
                s5 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, q + 5 * rowBytes, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, s5);
                s6 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, q + 6 * rowBytes, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, s6);
                s7 = ((FloatVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, data, q + 7 * rowBytes, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, s7);
            }
            a0 = s0.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p))), a0);
            a1 = s1.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p + rowBytes))), a1);
            a2 = s2.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p + 2 * rowBytes))), a2);
            a3 = s3.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p + 3 * rowBytes))), a3);
            a4 = s4.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p + 4 * rowBytes))), a4);
            a5 = s5.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p + 5 * rowBytes))), a5);
            a6 = s6.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p + 6 * rowBytes))), a6);
            a7 = s7.fma(FloatVector.broadcast(F, Float.float16ToFloat(data.get(SCALE, p + 7 * rowBytes))), a7);
        }
        out[outOffset] = a0.reduceLanes(VectorOperators.ADD);
        out[outOffset + 1] = a1.reduceLanes(VectorOperators.ADD);
        out[outOffset + 2] = a2.reduceLanes(VectorOperators.ADD);
        out[outOffset + 3] = a3.reduceLanes(VectorOperators.ADD);
        out[outOffset + 4] = a4.reduceLanes(VectorOperators.ADD);
        out[outOffset + 5] = a5.reduceLanes(VectorOperators.ADD);
        out[outOffset + 6] = a6.reduceLanes(VectorOperators.ADD);
        out[outOffset + 7] = a7.reduceLanes(VectorOperators.ADD);
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
        return blocksPerRow * (double) BLOCK_BYTES;
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        return tensor.dotScalar((firstBlock + (long) row * blocksPerRow) * BLOCK, x, xOffset, cols);
    }
}
