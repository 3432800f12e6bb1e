package gptoss.runtime.cpu.kernel;

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
 * MXFP4 rows (16 bytes of FP4 codes + one E8M0 scale per 32 elements) decoded in registers. Byte j of a block holds
 * element 2j (low nibble) and 2j+1 (high nibble), so widening L bytes to L ints gives the even elements' codes and,
 * shifted by 4, the odd ones': {@link VectorLayout#SPLIT} order. A code is looked up with {@code selectFrom} in the
 * 16-entry FP4 table multiplied by the block's scale 2^(e−127) (built from its byte as float bits {@code e << 23}):
 * the weight FP4[code]·2^(e−127) is exact, and every kernel (single row, GEMM panel decode) gets the same value.
 * <ul>
 *   <li>{@link #dot}, {@link #dot8}, {@link #dotRows}: the package's summation order, one accumulator vector per
 *       row, {@code acc = fma(even weights, even x, acc); acc = fma(odd weights, odd x, acc)} per L-byte chunk,
 *       {@link Lanes#sum} at the end. One such chain is bound by the FMA latency, so {@link #dot8} runs rows
 *       side by side.</li>
 *   <li>{@link #decode} writes the same weights, scaled, for {@link MatMul} and {@link Gemm}.</li>
 * </ul>
 * Vector code is written out in each kernel, without helper methods taking or returning vectors: the JIT inlines
 * small helpers only where it thinks them hot, and a vector passed to a call that is not inlined is boxed.
 * Scale bytes 0 and 255, which no real checkpoint uses, decode as 0 and +∞ here (2^−127 and NaN in the reference).
 * <p>
 * Where the build compiled it (AVX-512), {@link #dot}, {@link #dot8} and {@link #dotRows} run the native kernel
 * ({@link NativeKernels}): the same weights, products and order, eight rows side by side, about 30 vector
 * instructions per 128 weights and row. The Java loops below stay the fallback and are tested bit for bit against it.
 */
final class Mxfp4Matrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int BLOCK = Mxfp4Tensor.BLOCK;
    private static final int CHUNKS = 16 / L;                // L-byte chunks per block
    private static final IntVector TABLE_LOW;                // FP4 codes 0..L-1 (all 16 when L = 16), as float bits
    private static final IntVector TABLE_HIGH;               // codes 8..15 when L = 8
    private static final FloatVector FP4_LOW, FP4_HIGH;      // the same as floats, to scale per block

    static {
        int[] bits = new int[Math.max(16, L)];
        for (int i = 0; i < bits.length; i++) bits[i] = Float.floatToRawIntBits(Mxfp4Tensor.FP4[i & 15]);
        TABLE_LOW = IntVector.fromArray(I, bits, 0);
        TABLE_HIGH = L == 8 ? IntVector.fromArray(I, bits, 8) : TABLE_LOW;
        FP4_LOW = TABLE_LOW.reinterpretAsFloats();
        FP4_HIGH = TABLE_HIGH.reinterpretAsFloats();
    }

    private final Mxfp4Tensor tensor;
    private final MemorySegment blocks;
    private final MemorySegment scales;
    private final long firstBlock;
    private final int blocksPerRow;
    private final boolean nativeKernel;
    private final long blocksAddress, scalesAddress; // of the whole tensor, for the native kernel

    /** The native kernel where {@link NativeKernels} has one (and the tensor is off-heap), else the Java one. */
    Mxfp4Matrix(Mxfp4Tensor tensor, long offset, int rows, int cols) {
        this(tensor, offset, rows, cols, NativeKernels.available());
    }

    /** With {@code nativeKernel} false, always the Java Vector API kernel (tests run both). */
    Mxfp4Matrix(Mxfp4Tensor tensor, long offset, int rows, int cols, boolean nativeKernel) {
        super(rows, cols);
        if (offset % BLOCK != 0) throw new IllegalArgumentException("MXFP4 matrix must start on a block boundary");
        if (cols % BLOCK != 0) throw new IllegalArgumentException("MXFP4 rows must be whole blocks, got " + cols);
        this.tensor = tensor;
        this.blocks = tensor.blocks();
        this.scales = tensor.scales();
        this.firstBlock = offset / BLOCK;
        this.blocksPerRow = cols / BLOCK;
        if ((firstBlock + (long) rows * blocksPerRow) * 16 > blocks.byteSize() || firstBlock + (long) rows * blocksPerRow > scales.byteSize()) {
            throw new IllegalArgumentException("MXFP4 matrix [" + rows + ", " + cols + "] exceeds its tensor");
        }
        this.nativeKernel = nativeKernel && NativeKernels.available() && blocks.isNative() && scales.isNative();
        this.blocksAddress = this.nativeKernel ? blocks.address() : 0;
        this.scalesAddress = this.nativeKernel ? scales.address() : 0;
    }

    /** Whether the native kernel computes {@link #dot}, {@link #dot8} and {@link #dotRows}. */
    boolean isNative() {
        return nativeKernel;
    }

    /** For {@link BatchKernels} (native only) and the native GEMM: the tensor's code and scale addresses, this matrix's first block, blocks per row. */
    long blocksAddress() {
        return blocksAddress;
    }

    long scalesAddress() {
        return scalesAddress;
    }

    long firstBlock() {
        return firstBlock;
    }

    int blocksPerRow() {
        return blocksPerRow;
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
        long b = firstBlock + (long) row * blocksPerRow;
        if (nativeKernel) return NativeKernels.mxfp4Dot(blocksAddress, scalesAddress, b, blocksPerRow, x, xOffset);
        FloatVector acc = FloatVector.zero(F);
        for (int j = 0; j < blocksPerRow; j++) {
            FloatVector scale = FloatVector.broadcast(F, scale(b + j));
            IntVector lo = FP4_LOW.mul(scale).reinterpretAsInts(), hi = L == 8 ? FP4_HIGH.mul(scale).reinterpretAsInts() : lo;
            for (int c = 0; c < CHUNKS; c++) {
                int xi = xOffset + j * BLOCK + c * 2 * L;
                IntVector v = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, blocks, (b + j) * 16 + (long) c * L, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                acc = (L == 8 ? v.selectFrom(lo, hi) : v.selectFrom(lo)).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi), acc);
                v = v.lanewise(VectorOperators.LSHR, 4);
                acc = (L == 8 ? v.selectFrom(lo, hi) : v.selectFrom(lo)).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + L), acc);
            }
        }
        return Lanes.sum(acc);
    }

    @Override
    public void dot8(int row, int stride, float[] x, int xOffset, float[] out, int outOffset) {
        if (stride < 1) throw new IllegalArgumentException("stride " + stride);
        Objects.checkIndex(row, rows);
        Objects.checkIndex(row + (PASS_ROWS - 1) * (long) stride, rows);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
        Objects.checkFromIndexSize(outOffset, PASS_ROWS, out.length);
        if (nativeKernel) {
            NativeKernels.mxfp4Rows8(blocksAddress, scalesAddress, firstBlock, blocksPerRow, x, xOffset, row, stride, out, outOffset);
            return;
        }
        rows4(row, stride, x, xOffset, out, outOffset);
        rows4(row + 4 * stride, stride, x, xOffset, out, outOffset + 4);
    }

    @Override
    public void dotRows(int from, int to, float[] x, int xOffset, float[] out, int outOffset, float[] pass) {
        if (!nativeKernel) {
            super.dotRows(from, to, x, xOffset, out, outOffset, pass);
            return;
        }
        checkRowsCall(from, to, x, xOffset, out, outOffset);
        NativeKernels.mxfp4Rows(blocksAddress, scalesAddress, firstBlock, blocksPerRow, x, xOffset, from, to, out, outOffset);
    }

    /** Rows row + i·stride (i < 4) side by side (four independent FMA chains), to out[outOffset + i]. */
    private void rows4(int row, int stride, float[] x, int xOffset, float[] out, int outOffset) {
        long b0 = firstBlock + (long) row * blocksPerRow, step = (long) stride * blocksPerRow;
        long b1 = b0 + step, b2 = b1 + step, b3 = b2 + step;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int j = 0; j < blocksPerRow; j++) {
            FloatVector s0 = FloatVector.broadcast(F, scale(b0 + j)), s1 = FloatVector.broadcast(F, scale(b1 + j));
            FloatVector s2 = FloatVector.broadcast(F, scale(b2 + j)), s3 = FloatVector.broadcast(F, scale(b3 + j));
            IntVector l0 = FP4_LOW.mul(s0).reinterpretAsInts(), h0 = L == 8 ? FP4_HIGH.mul(s0).reinterpretAsInts() : l0;
            IntVector l1 = FP4_LOW.mul(s1).reinterpretAsInts(), h1 = L == 8 ? FP4_HIGH.mul(s1).reinterpretAsInts() : l1;
            IntVector l2 = FP4_LOW.mul(s2).reinterpretAsInts(), h2 = L == 8 ? FP4_HIGH.mul(s2).reinterpretAsInts() : l2;
            IntVector l3 = FP4_LOW.mul(s3).reinterpretAsInts(), h3 = L == 8 ? FP4_HIGH.mul(s3).reinterpretAsInts() : l3;
            for (int c = 0; c < CHUNKS; c++) {
                int xi = xOffset + j * BLOCK + c * 2 * L;
                long at = (long) j * 16 + (long) c * L;
                FloatVector xe = FloatVector.fromArray(F, x, xi), xo = FloatVector.fromArray(F, x, xi + L);
                IntVector v = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, blocks, b0 * 16 + at, LE).convertShape(VectorOperators.B2I, I, 0);
                a0 = (L == 8 ? v.selectFrom(l0, h0) : v.selectFrom(l0)).reinterpretAsFloats().fma(xe, a0);
                v = v.lanewise(VectorOperators.LSHR, 4);
                a0 = (L == 8 ? v.selectFrom(l0, h0) : v.selectFrom(l0)).reinterpretAsFloats().fma(xo, a0);
                v = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, blocks, b1 * 16 + at, LE).convertShape(VectorOperators.B2I, I, 0);
                a1 = (L == 8 ? v.selectFrom(l1, h1) : v.selectFrom(l1)).reinterpretAsFloats().fma(xe, a1);
                v = v.lanewise(VectorOperators.LSHR, 4);
                a1 = (L == 8 ? v.selectFrom(l1, h1) : v.selectFrom(l1)).reinterpretAsFloats().fma(xo, a1);
                v = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, blocks, b2 * 16 + at, LE).convertShape(VectorOperators.B2I, I, 0);
                a2 = (L == 8 ? v.selectFrom(l2, h2) : v.selectFrom(l2)).reinterpretAsFloats().fma(xe, a2);
                v = v.lanewise(VectorOperators.LSHR, 4);
                a2 = (L == 8 ? v.selectFrom(l2, h2) : v.selectFrom(l2)).reinterpretAsFloats().fma(xo, a2);
                v = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, blocks, b3 * 16 + at, LE).convertShape(VectorOperators.B2I, I, 0);
                a3 = (L == 8 ? v.selectFrom(l3, h3) : v.selectFrom(l3)).reinterpretAsFloats().fma(xe, a3);
                v = v.lanewise(VectorOperators.LSHR, 4);
                a3 = (L == 8 ? v.selectFrom(l3, h3) : v.selectFrom(l3)).reinterpretAsFloats().fma(xo, a3);
            }
        }
        out[outOffset] = Lanes.sum(a0);
        out[outOffset + 1] = Lanes.sum(a1);
        out[outOffset + 2] = Lanes.sum(a2);
        out[outOffset + 3] = Lanes.sum(a3);
    }

    private float scale(long block) {
        return Float.intBitsToFloat((scales.get(ValueLayout.JAVA_BYTE, block) & 0xFF) << 23);
    }

    @Override
    public void decode(int row, int count, int col, int n, float[] dst, int dstOffset, int dstStride) {
        int chunksPerBlock = 16 / L, b0 = col / BLOCK, b1 = (col + n) / BLOCK;
        for (int r = 0; r < count; r++) {
            long block = firstBlock + (long) (row + r) * blocksPerRow;
            int out = dstOffset + r * dstStride - col;
            for (int b = b0; b < b1; b++) {
                FloatVector scale = FloatVector.broadcast(F, scale(block + b));
                for (int c = 0; c < chunksPerBlock; c++) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(Lanes.B_QUARTER, blocks, (block + b) * 16 + (long) c * L, LE)
                            .convertShape(VectorOperators.B2I, I, 0);
                    int o = out + b * BLOCK + c * 2 * L;
                    (L == 8 ? v.selectFrom(TABLE_LOW, TABLE_HIGH) : v.selectFrom(TABLE_LOW)).reinterpretAsFloats().mul(scale).intoArray(dst, o);
                    (L == 8 ? v.lanewise(VectorOperators.LSHR, 4).selectFrom(TABLE_LOW, TABLE_HIGH) : v.lanewise(VectorOperators.LSHR, 4).selectFrom(TABLE_LOW)).reinterpretAsFloats().mul(scale).intoArray(dst, o + L);
                }
            }
        }
    }

    @Override
    public double rowBytes() {
        return blocksPerRow * 17.0;
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        return tensor.dotScalar((firstBlock + (long) row * blocksPerRow) * BLOCK, x, xOffset, cols);
    }

    // For the native GEMM (GemmKernels): the codes and scales of the whole tensor, and where a row's blocks start.

    MemorySegment blockSegment() {
        return blocks;
    }

    MemorySegment scaleSegment() {
        return scales;
    }

    long firstBlockOf(int row) {
        return firstBlock + (long) row * blocksPerRow;
    }
}
