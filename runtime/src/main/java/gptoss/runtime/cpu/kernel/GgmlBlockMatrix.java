package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.FloatTensor;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Rows of one of ggml's block formats (32 elements per block: {@link Q8_0Matrix}, {@link GgmlMxfp4Matrix}) read
 * where they lie, activations in natural order. This class holds what the formats share: the addressing of blocks
 * and rows, and the calls of the native kernels ({@link GgmlKernels}) where they run; each format writes out its
 * own Java kernels ({@link #javaDot}, {@link #javaDot8}, {@link #decode}), which compute the same bits.
 */
abstract sealed class GgmlBlockMatrix extends WeightMatrix permits Q8_0Matrix, GgmlMxfp4Matrix {
    static final int BLOCK = 32;

    private final FloatTensor tensor;
    final MemorySegment data;       // [rows, cols/32] blocks of blockBytes
    final long blockBytes;
    final long firstBlock;
    final int blocksPerRow;
    final long rowBytes;
    private final boolean nativeKernel;
    private final long address;     // of the tensor's data, for the native kernels

    /**
     * The matrix [rows, cols] from element {@code offset} of {@code tensor} (stored in {@code data}, blocks of
     * {@code blockBytes}); with the format's native {@link #kernels()} if {@code nativeKernel}, they loaded and the
     * data is off-heap.
     */
    GgmlBlockMatrix(FloatTensor tensor, MemorySegment data, long blockBytes, boolean nativeKernel, long offset, int rows, int cols) {
        super(rows, cols);
        if (offset % BLOCK != 0 || cols % BLOCK != 0) throw new IllegalArgumentException(getClass().getSimpleName() + " must be block aligned");
        this.tensor = tensor;
        this.data = data;
        this.blockBytes = blockBytes;
        this.firstBlock = offset / BLOCK;
        this.blocksPerRow = cols / BLOCK;
        this.rowBytes = blocksPerRow * blockBytes;
        this.nativeKernel = nativeKernel && GgmlKernels.enabled() && data.isNative();
        this.address = this.nativeKernel ? data.address() : 0;
    }

    /** Whether the native kernels compute {@link #dot} and {@link #dot8}. */
    final boolean isNative() {
        return nativeKernel;
    }

    /**
     * The format's native kernels (a static final of {@link GgmlKernels}, returned by each final subclass, so that
     * the JIT inlines the downcalls); called only where {@link #isNative()}.
     */
    abstract GgmlKernels kernels();

    /** This matrix with the Java kernels only. */
    abstract GgmlBlockMatrix javaKernels();

    /** Row from byte {@code p} of {@link #data} times x from {@code xOffset}, in Java. */
    abstract float javaDot(long p, float[] x, int xOffset);

    /**
     * Whether {@link #javaDot8} reads eight rows side by side in Java on this machine; otherwise passes go row by
     * row (both give the same bits).
     */
    abstract boolean javaPasses();

    /** The Java kernel of eight rows: row 2i at {@code sa[pa + i·step]}, row 2i+1 at {@code sb[pb + i·step]}. */
    abstract void javaDot8(MemorySegment sa, long pa, MemorySegment sb, long pb, long step, float[] x, int xOffset, float[] out, int outOffset);

    @Override
    public final VectorLayout dotLayout() {
        return VectorLayout.NATURAL;
    }

    @Override
    public final VectorLayout decodeLayout() {
        return VectorLayout.NATURAL;
    }

    /** The byte of {@link #data} where block {@code block} of row {@code row} starts. */
    final long blockStart(int row, int block) {
        return (firstBlock + (long) row * blocksPerRow + block) * blockBytes;
    }

    @Override
    public final float dot(int row, float[] x, int xOffset) {
        Objects.checkIndex(row, rows);
        long p = blockStart(row, 0);
        if (!nativeKernel) return javaDot(p, x, xOffset);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
        return kernels().dot(address + p, blocksPerRow, x, xOffset);
    }

    /**
     * Native passes take adjacent rows and prefetch the next pass's while they compute: from memory that beat eight
     * spread streams (one core, 512 MB: Q8_0 33 against 24 GB/s, MXFP4 23 against 20; README, GGUF). The Java
     * kernels, which cannot prefetch, read eight spread streams.
     */
    @Override
    final boolean readsPassRowsTogether() {
        return !nativeKernel;
    }

    /** Natively, the whole range in one call (the same passes and rows as {@link WeightMatrix#dotRows}). */
    @Override
    public final void dotRows(int from, int to, float[] x, int xOffset, float[] out, int outOffset, float[] pass) {
        if (!nativeKernel) {
            super.dotRows(from, to, x, xOffset, out, outOffset, pass);
            return;
        }
        checkRowsCall(from, to, x, xOffset, out, outOffset);
        kernels().rows(address + blockStart(0, 0), rowBytes, from, to, blocksPerRow, x, xOffset, out, outOffset);
    }

    @Override
    public final void dot8(int row, int stride, float[] x, int xOffset, float[] out, int outOffset) {
        Objects.checkIndex(row, rows);
        Objects.checkIndex(row + (PASS_ROWS - 1) * stride, rows);
        long p = blockStart(row, 0), step = rowBytes * stride;
        if (nativeKernel) {
            Objects.checkFromIndexSize(xOffset, cols, x.length);
            Objects.checkFromIndexSize(outOffset, PASS_ROWS, out.length);
            // adjacent rows: the next pass (dotRows) reads the eight rows after these, so prefetch them meanwhile
            long next = stride == 1 ? address + p + PASS_ROWS * rowBytes : 0;
            kernels().dot8(address + p, address + p + step, 2 * step, blocksPerRow, x, xOffset, out, outOffset,
                    next, 0, stride == 1 ? PASS_ROWS * blockBytes : 0);
        } else if (javaPasses()) {
            javaDot8(data, p, data, p + step, 2 * step, x, xOffset, out, outOffset);
        } else {
            super.dot8(row, stride, x, xOffset, out, outOffset);
        }
    }

    /**
     * Rows {@code row .. row+3} of this matrix and of {@code odd} (same format and width) as eight interleaved rows
     * (this, odd, this, ...): GGUF's gate and up expert matrices as the (gate, linear) pairs of
     * {@link PairedRowsMatrix}, in one pass.
     */
    final void dot8Paired(GgmlBlockMatrix odd, int row, float[] x, int xOffset, float[] out, int outOffset) {
        Objects.checkIndex(row + PASS_ROWS / 2 - 1, rows);
        Objects.checkIndex(row + PASS_ROWS / 2 - 1, odd.rows);
        if (odd.getClass() != getClass() || odd.blocksPerRow != blocksPerRow) {
            throw new IllegalArgumentException("paired rows of different formats or widths");
        }
        long pa = blockStart(row, 0), pb = odd.blockStart(row, 0);
        if (nativeKernel && odd.nativeKernel) {
            Objects.checkFromIndexSize(xOffset, cols, x.length);
            Objects.checkFromIndexSize(outOffset, PASS_ROWS, out.length);
            // the next pass reads the four pairs after these: prefetch them meanwhile
            long ahead = PASS_ROWS / 2 * rowBytes;
            kernels().dot8(address + pa, odd.address + pb, rowBytes, blocksPerRow, x, xOffset, out, outOffset,
                    address + pa + ahead, odd.address + pb + ahead, PASS_ROWS / 2 * blockBytes);
        } else if (javaPasses()) {
            javaDot8(data, pa, odd.data, pb, rowBytes, x, xOffset, out, outOffset);
        } else {
            for (int i = 0; i < PASS_ROWS; i++) out[outOffset + i] = ((i & 1) == 0 ? this : odd).dot(row + i / 2, x, xOffset);
        }
    }

    @Override
    public final double rowBytes() {
        return rowBytes;
    }

    @Override
    public final float dotScalar(int row, float[] x, int xOffset) {
        return tensor.dotScalar((firstBlock + (long) row * blocksPerRow) * BLOCK, x, xOffset, cols);
    }
}
