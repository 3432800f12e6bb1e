package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.Mxfp4Tensor;
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
 * MXFP4 rows (16 bytes of FP4 codes + one E8M0 scale per 32 elements) decoded in registers. A 4-bit code is
 * looked up in a table of the 16 FP4 values as float bits with {@code selectFrom} (one permute per L weights;
 * indices wrap to the table size, so the other nibbles of a lane need no masking). The block scale 2^(e−127)
 * is built from its byte as float bits ({@code e << 23}) and multiplies each table value (exact), so a weight
 * reaches its FMA as the exact fp32 value the package documentation's order needs.
 * <ul>
 *   <li>{@link #dot} reads L int lanes (4L bytes, L/4 blocks) at a time and takes nibble n of every lane with
 *       one shift: the activations come in {@link VectorLayout#NIBBLE} order (rows need at least L/4 blocks;
 *       narrower matrices use {@link GenericMatrix}). Unlike BF16, reading rows in pairs measured slower on real
 *       expert matrices (6.4 against 8.4 GB/s on two cores), so rows are read one at a time.</li>
 *   <li>{@link #decode} writes the same nibble order, one group of 8L weights per int vector read, each weight
 *       the table value times its block's scale (exact), for {@link Gemm}.</li>
 * </ul>
 * Nibble decoding costs about nine vector operations per block, so with one activation row these kernels are
 * bound by computation (about 8 GB/s of MXFP4 on two cores here), not by memory. Vector code is written out in
 * each kernel, without helper methods taking or returning vectors: the JIT inlines small helpers only where it
 * thinks them hot, and a vector passed to a call that is not inlined is boxed on the heap.
 * Scale bytes 0 and 255, which no real checkpoint uses, decode as 0 and +∞ here (2^−127 and NaN in the reference).
 * <p>
 * Where the build compiled it, {@link #dot} and {@link #dot8} run the native kernel instead ({@link NativeKernels}:
 * the same order of activations, the same products and block sums, 30 vector instructions per 128 weights against
 * the 41 C2 emits for the loop below, whose {@code selectFrom} adds an index-wrapping AND to every lookup).
 * The loop below stays the fallback and is tested alongside.
 */
final class Mxfp4Matrix extends WeightMatrix {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfInt SCALES4 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort SCALES2 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final int BLOCK = Mxfp4Tensor.BLOCK;
    private static final int GROUP_BLOCKS = L / 4;
    private static final int GROUP = 8 * L;                  // elements per int vector
    private static final IntVector TABLE_LOW;                // FP4 codes 0..L-1 (all 16 when L = 16)
    private static final IntVector TABLE_HIGH;               // codes 8..15 when L = 8
    private static final IntVector SCALE_SHIFTS;             // lane i reads scale byte i/4 of the group

    static {
        int[] bits = new int[Math.max(16, L)];
        for (int i = 0; i < bits.length; i++) bits[i] = Float.floatToRawIntBits(Mxfp4Tensor.FP4[i & 15]);
        TABLE_LOW = IntVector.fromArray(I, bits, 0);
        TABLE_HIGH = L == 8 ? IntVector.fromArray(I, bits, 8) : TABLE_LOW;
        int[] shifts = new int[L];
        for (int i = 0; i < L; i++) shifts[i] = 8 * (i / 4);
        SCALE_SHIFTS = IntVector.fromArray(I, shifts, 0);
    }

    /**
     * Bytes ahead of the current group that {@link #dot} loads early: measured on two cores, MXFP4 rows read from
     * memory run about 1.5× faster with it (memory requests start while the previous groups are decoded).
     */
    private static final long PREFETCH = 512;
    private static volatile int prefetched;

    private final Mxfp4Tensor tensor;
    private final MemorySegment blocks;
    private final MemorySegment scales;
    private final long firstBlock;
    private final int blocksPerRow;
    private final long lastVector;  // last offset in blocks where a whole int vector can be read
    private final boolean nativeKernel;
    private final long blocksAddress, scalesAddress; // of the whole tensor, for the native kernel
    private final int xLength;      // floats of x in nibble order

    /** The native kernel where {@link NativeKernels} has one (and the tensor is off-heap), else the Java one. */
    Mxfp4Matrix(Mxfp4Tensor tensor, long offset, int rows, int cols) {
        this(tensor, offset, rows, cols, NativeKernels.mxfp4());
    }

    /** With {@code nativeKernel} false, always the Java Vector API kernel (tests run both). */
    Mxfp4Matrix(Mxfp4Tensor tensor, long offset, int rows, int cols, boolean nativeKernel) {
        super(rows, cols);
        if (offset % BLOCK != 0) throw new IllegalArgumentException("MXFP4 matrix must start on a block boundary");
        this.tensor = tensor;
        this.blocks = tensor.blocks();
        this.scales = tensor.scales();
        this.firstBlock = offset / BLOCK;
        this.blocksPerRow = cols / BLOCK;
        this.lastVector = blocks.byteSize() - 4L * L;
        this.nativeKernel = nativeKernel && NativeKernels.mxfp4() && blocks.isNative() && scales.isNative();
        this.blocksAddress = this.nativeKernel ? blocks.address() : 0;
        this.scalesAddress = this.nativeKernel ? scales.address() : 0;
        this.xLength = VectorLayout.NIBBLE.length(cols);
    }

    /** Whether the native kernel computes {@link #dot} and {@link #dot8}. */
    boolean isNative() {
        return nativeKernel;
    }

    @Override
    public VectorLayout dotLayout() {
        return VectorLayout.NIBBLE;
    }

    @Override
    public VectorLayout decodeLayout() {
        return VectorLayout.NIBBLE;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long block = firstBlock + (long) row * blocksPerRow;
        if (nativeKernel) {
            Objects.checkIndex(row, rows);
            Objects.checkFromIndexSize(xOffset, xLength, x.length);
            return NativeKernels.mxfp4Dot(blocksAddress, scalesAddress, block, blocksPerRow, x, xOffset);
        }
        // One loop body and no helpers taking or returning vectors: the JIT must inline every vector operation
        // (or it boxes them), and it stops inlining in methods that grow too large. A row that is not a whole
        // number of groups ends with one group that overlaps the previous one; the overlapped blocks get scale 0
        // there, and the activations hold that last group a second time (see VectorLayout.NIBBLE).
        int whole = blocksPerRow / GROUP_BLOCKS, overlap = (GROUP_BLOCKS - blocksPerRow % GROUP_BLOCKS) % GROUP_BLOCKS;
        int groups = whole + (overlap == 0 ? 0 : 1);
        // The documented order: each weight decoded exactly (table value × block scale), one FMA per weight into
        // one accumulator, lane i taking nibbles 0..7 of int lane i group after group.
        FloatVector acc = FloatVector.zero(F);
        IntVector ahead = IntVector.zero(I);
        for (int g = 0; g < groups; g++) {
            long first = g < whole ? block + (long) g * GROUP_BLOCKS : block + blocksPerRow - GROUP_BLOCKS;
            int keep = g < whole ? -1 : -1 << (8 * overlap);
            int xi = xOffset + g * GROUP;
            // Touch the bytes PREFETCH ahead: the decoding leaves the core too busy to run ahead of memory itself.
            ahead = ahead.or(IntVector.fromMemorySegment(I, blocks, Math.min(first * 16 + PREFETCH, lastVector), LE));
            IntVector v = IntVector.fromMemorySegment(I, blocks, first * 16, LE);
            int packed = (L == 16 ? scales.get(SCALES4, first) : scales.get(SCALES2, first) & 0xFFFF) & keep;
            FloatVector scale = IntVector.broadcast(I, packed).lanewise(VectorOperators.LSHR, SCALE_SHIFTS).and(0xFF)
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            for (int nib = 0; nib < 8; nib++) {
                IntVector c = v.lanewise(VectorOperators.LSHR, 4 * nib);
                acc = (L == 8 ? c.selectFrom(TABLE_LOW, TABLE_HIGH) : c.selectFrom(TABLE_LOW)).reinterpretAsFloats().mul(scale)
                        .fma(FloatVector.fromArray(F, x, xi + nib * L), acc);
            }
        }
        keepAlive(ahead.reduceLanes(VectorOperators.OR));
        return Lanes.sum(acc);
    }

    @Override
    public void dot8(int row, int stride, float[] x, int xOffset, float[] out, int outOffset) {
        if (!nativeKernel) {
            super.dot8(row, stride, x, xOffset, out, outOffset);
            return;
        }
        // The native kernel reads raw memory: check here what the Java kernel's accesses would check.
        Objects.checkIndex(row, rows);
        Objects.checkIndex(row + (PASS_ROWS - 1) * (long) stride, rows);
        if (stride < 1) throw new IllegalArgumentException("stride " + stride);
        Objects.checkFromIndexSize(xOffset, xLength, x.length);
        Objects.checkFromIndexSize(outOffset, PASS_ROWS, out.length);
        NativeKernels.mxfp4DotRows(blocksAddress, scalesAddress, firstBlock, blocksPerRow, x, xOffset, row, PASS_ROWS, stride, out, outOffset);
    }

    /** Makes the prefetching loads observable (so the JIT keeps them) without changing any result. */
    private static void keepAlive(int touched) {
        if (touched == 0x5EEDF00D) prefetched = touched;
    }

    @Override
    public void decode(int row, int count, int from, int n, float[] dst, int dstOffset, int dstStride) {
        // Group g of nibble order (8L positions) is one int vector of codes: position n·L + i is nibble n of int
        // lane i, whose block is lane i / 4. The last group of a row that is not a whole number of groups
        // overlaps the one before; its overlapped blocks get scale 0, as in dot.
        int whole = blocksPerRow / GROUP_BLOCKS, overlap = (GROUP_BLOCKS - blocksPerRow % GROUP_BLOCKS) % GROUP_BLOCKS;
        int g0 = from / GROUP, g1 = (from + n) / GROUP;
        for (int r = 0; r < count; r++) {
            long block = firstBlock + (long) (row + r) * blocksPerRow;
            int out = dstOffset + r * dstStride - from;
            for (int g = g0; g < g1; g++) {
                long first = g < whole ? block + (long) g * GROUP_BLOCKS : block + blocksPerRow - GROUP_BLOCKS;
                int keep = g < whole ? -1 : -1 << (8 * overlap);
                int packed = (L == 16 ? scales.get(SCALES4, first) : scales.get(SCALES2, first) & 0xFFFF) & keep;
                FloatVector scale = IntVector.broadcast(I, packed).lanewise(VectorOperators.LSHR, SCALE_SHIFTS).and(0xFF)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                IntVector v = IntVector.fromMemorySegment(I, blocks, first * 16, LE);
                int o = out + g * GROUP;
                for (int nib = 0; nib < 8; nib++) {
                    IntVector c = v.lanewise(VectorOperators.LSHR, 4 * nib);
                    (L == 8 ? c.selectFrom(TABLE_LOW, TABLE_HIGH) : c.selectFrom(TABLE_LOW)).reinterpretAsFloats().mul(scale).intoArray(dst, o + nib * L);
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
}
