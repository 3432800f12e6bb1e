package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.Bf16Tensor;
import gptoss.model.tensor.F16Tensor;
import gptoss.model.tensor.FloatTensor;
import gptoss.model.tensor.GgmlMxfp4Tensor;
import gptoss.model.tensor.InterleavedRowsTensor;
import gptoss.model.tensor.Mxfp4Tensor;
import gptoss.model.tensor.Q8_0Tensor;

import java.util.Objects;

/**
 * A weight matrix [rows, cols] stored row-major inside a memory-mapped tensor (from element {@code offset}),
 * with the kernels for its storage format. Nothing is copied: every call decodes the stored bits.
 * <ul>
 *   <li>{@link #dot}: one row times an activation vector arranged in {@link #dotLayout()} (decode, one token);</li>
 *   <li>{@link #decode}: rows decoded to fp32 in {@link #decodeLayout()}, for {@link Gemm} to apply each decoded
 *       row to many tokens (prefill, batched decode).</li>
 * </ul>
 * Decoding is exact (BF16 and MXFP4 values are floats), accumulation is fp32 in the one order of the package
 * documentation, so {@link #dot} and {@link Gemm} give the same bits; {@link #dotScalar} (natural order) differs
 * from them only in summation order. {@link #dotLayout()} and {@link #decodeLayout()} are the same order in the
 * fast formats, so an element lands in the same lane on both paths.
 */
public abstract sealed class WeightMatrix permits Bf16Matrix, Mxfp4Matrix, GenericMatrix,
        F16Matrix, GgmlBlockMatrix, PairedRowsMatrix {
    protected final int rows;
    protected final int cols;

    WeightMatrix(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
    }

    /** The fastest kernels this machine has for {@code tensor}'s matrix of {@code rows × cols} from element {@code offset}. */
    public static WeightMatrix of(FloatTensor tensor, long offset, int rows, int cols) {
        if (offset < 0 || offset + (long) rows * cols > tensor.size()) {
            throw new IllegalArgumentException("matrix [" + rows + ", " + cols + "] at " + offset + " exceeds a tensor of " + tensor.size());
        }
        if (Lanes.FAST && tensor instanceof Bf16Tensor b) return new Bf16Matrix(b, offset, rows, cols);
        if (Lanes.FAST && tensor instanceof Mxfp4Tensor m && cols % Mxfp4Tensor.BLOCK == 0 && offset % Mxfp4Tensor.BLOCK == 0) {
            return new Mxfp4Matrix(m, offset, rows, cols);
        }
        if (tensor instanceof InterleavedRowsTensor p && p.rowLength() == cols && offset % (2L * cols) == 0 && rows % 2 == 0) {
            return new PairedRowsMatrix(of(p.even(), offset / 2, rows / 2, cols), of(p.odd(), offset / 2, rows / 2, cols));
        }
        if (Lanes.FAST && tensor instanceof Q8_0Tensor q && cols % Q8_0Tensor.BLOCK == 0 && offset % Q8_0Tensor.BLOCK == 0) return new Q8_0Matrix(q, offset, rows, cols);
        if (Lanes.FAST && tensor instanceof F16Tensor h) return new F16Matrix(h, offset, rows, cols);
        if (Lanes.FAST && tensor instanceof GgmlMxfp4Tensor m && cols % GgmlMxfp4Tensor.BLOCK == 0 && offset % GgmlMxfp4Tensor.BLOCK == 0) return new GgmlMxfp4Matrix(m, offset, rows, cols);
        return new GenericMatrix(tensor, offset, rows, cols);
    }

    /**
     * Like {@link #of(FloatTensor, long, int, int)} but never the native kernels ({@link NativeKernels}): the Java
     * Vector API ones, which run where no native library was built (for comparisons and tests).
     */
    public static WeightMatrix javaKernels(FloatTensor tensor, long offset, int rows, int cols) {
        WeightMatrix m = of(tensor, offset, rows, cols);
        if (m instanceof Mxfp4Matrix x && x.isNative()) return new Mxfp4Matrix((Mxfp4Tensor) tensor, offset, rows, cols, false);
        if (m instanceof Bf16Matrix b && b.isNative()) return new Bf16Matrix((Bf16Tensor) tensor, offset, rows, cols, false);
        return javaGgml(m);
    }

    /** GGUF's formats (and their gate/up pairs) with the Java kernels ({@link GgmlKernels} are the native ones). */
    private static WeightMatrix javaGgml(WeightMatrix m) {
        return switch (m) {
            case GgmlBlockMatrix g -> g.javaKernels();
            case PairedRowsMatrix p -> p.javaKernels();
            default -> m;
        };
    }

    /** The whole of a 2-D tensor [rows, cols]. */
    public static WeightMatrix of(FloatTensor tensor, int rows, int cols) {
        return of(tensor, 0, rows, cols);
    }

    /** The scalar kernels only (the reference the fast ones are tested against). */
    public static WeightMatrix scalar(FloatTensor tensor, long offset, int rows, int cols) {
        return new GenericMatrix(tensor, offset, rows, cols);
    }

    public final int rows() {
        return rows;
    }

    public final int cols() {
        return cols;
    }

    /** Order {@link #dot} expects the activation vector in. */
    public abstract VectorLayout dotLayout();

    /** Order in which {@link #decode} writes a row (and {@link Gemm} expects the activations). */
    public abstract VectorLayout decodeLayout();

    /** {@code row(r) · x}, x being {@code dotLayout().length(cols)} floats from {@code xOffset} in {@link #dotLayout()}. */
    public abstract float dot(int row, float[] x, int xOffset);

    /** Rows a {@link #dot8} call computes. */
    public static final int PASS_ROWS = 8;

    /**
     * Rows {@code row .. row+7} times the same x: {@code out[outOffset + r] = row(row + r) · x}. Formats whose
     * decoding is cheap read the eight rows in one pass, sharing every load of x: eight concurrent streams let
     * a core keep enough weight reads in flight to reach the memory's bandwidth.
     */
    public void dot8(int row, float[] x, int xOffset, float[] out, int outOffset) {
        dot8(row, 1, x, xOffset, out, outOffset);
    }

    /** Whether {@link #dot8} reads its eight rows side by side (then spreading them over a range pays). */
    boolean readsPassRowsTogether() {
        return false;
    }

    /**
     * Rows {@code [from, to)} times the same x, row r to {@code out[outOffset + r]}, in {@link #dot8} passes through
     * {@code pass} ({@link #PASS_ROWS} floats of scratch). A format whose passes read their rows side by side takes
     * rows {@code from + p + i·stride}, so a core reads eight long sequential streams as a streaming read does
     * (about 7 % faster than eight adjacent rows, JMH {@code MatVecBenchmark}); the others take adjacent rows.
     * Every row's sum is the same whichever rows share its pass. A format may override this with a kernel doing
     * the same passes (same results), e.g. the whole range in one native call.
     */
    public void dotRows(int from, int to, float[] x, int xOffset, float[] out, int outOffset, float[] pass) {
        int passes = (to - from) / PASS_ROWS;
        boolean spread = readsPassRowsTogether();
        int stride = spread ? passes : 1, step = spread ? 1 : PASS_ROWS;
        for (int p = 0; p < passes; p++) {
            int first = from + p * step;
            dot8(first, stride, x, xOffset, pass, 0);
            for (int i = 0; i < PASS_ROWS; i++) out[outOffset + first + i * stride] = pass[i];
        }
        for (int r = from + passes * PASS_ROWS; r < to; r++) out[outOffset + r] = dot(r, x, xOffset);
    }

    /**
     * Throws unless rows {@code [from, to)} of this matrix, x from {@code xOffset} and {@code out[outOffset + from ..
     * outOffset + to)} are all in bounds: a native rows kernel reads and writes them unchecked.
     */
    final void checkRowsCall(int from, int to, float[] x, int xOffset, float[] out, int outOffset) {
        Objects.checkFromToIndex(from, to, rows);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
        Objects.checkFromToIndex(outOffset + from, outOffset + to, out.length);
    }

    /**
     * Rows {@code row + i·stride} for i = 0..7 times the same x, to {@code out[outOffset + i]}. With a stride of
     * many rows, consecutive calls (row, row + 1, ...) read eight long sequential streams, as a streaming read does.
     */
    public void dot8(int row, int stride, float[] x, int xOffset, float[] out, int outOffset) {
        for (int r = 0; r < PASS_ROWS; r++) out[outOffset + r] = dot(row + r * stride, x, xOffset);
    }

    /** Floats a row occupies in {@link #decodeLayout()}: {@code decodeLayout().length(cols)} (more than cols in nibble order). */
    public final int decodedLength() {
        return decodeLayout().length(cols);
    }

    /** Rows {@code [row, row + count)} as fp32 in {@link #decodeLayout()}, row i at {@code dst[dstOffset + i·decodedLength()]}. */
    public final void decode(int row, int count, float[] dst, int dstOffset) {
        int n = decodedLength();
        decode(row, count, 0, n, dst, dstOffset, n);
    }

    /**
     * Alignment of the position ranges {@link #decode(int, int, int, int, float[], int, int)} takes: one group of
     * the nibble order (8L positions, four MXFP4 blocks per 128), so every layout's permutation stays inside a range.
     */
    public static final int DECODE_ALIGN = 8 * Lanes.L;

    /**
     * Positions {@code [from, from + n)} of rows {@code [row, row + count)} in {@link #decodeLayout()} as exact fp32,
     * row i at {@code dst[dstOffset + i·dstStride]}: one panel of a {@link Gemm} depth block. {@code from} is a
     * multiple of {@link #DECODE_ALIGN}, and so is {@code from + n} unless it is {@link #decodedLength()}. A position
     * that holds no element (the overlap of nibble order's last group) decodes as 0. In the natural and split
     * orders positions are columns.
     */
    public abstract void decode(int row, int count, int from, int n, float[] dst, int dstOffset, int dstStride);

    /** Bytes of storage one row occupies (MXFP4: codes and scales). */
    public abstract double rowBytes();

    /** Bytes of storage of the whole matrix. */
    public final long bytes() {
        return Math.round(rowBytes() * rows);
    }

    /** The reference: {@code row(r) · x} element by element through {@link FloatTensor#getFloat}, x in natural order. */
    public abstract float dotScalar(int row, float[] x, int xOffset);

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + rows + ", " + cols + "]";
    }
}
