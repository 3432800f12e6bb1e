package gptoss.runtime.cpu.kernel;

/**
 * Two matrices of equal shape [R, K] and format seen as one [2R, K] with their rows interleaved: row 2r is
 * {@code even}'s row r, row 2r+1 is {@code odd}'s (GGUF's separate gate and up expert matrices, presented in
 * the (gate, linear) row-pair order the expert kernel applies SwiGLU to). Each call goes to the matrix holding
 * the row, so the rows are read where they lie with their own format's kernels.
 */
final class PairedRowsMatrix extends WeightMatrix {
    private final WeightMatrix even;
    private final WeightMatrix odd;

    PairedRowsMatrix(WeightMatrix even, WeightMatrix odd) {
        super(2 * even.rows(), even.cols());
        if (even.getClass() != odd.getClass() || even.rows() != odd.rows() || even.cols() != odd.cols()) {
            throw new IllegalArgumentException("paired rows need two matrices of one format and shape: " + even + ", " + odd);
        }
        this.even = even;
        this.odd = odd;
    }

    /** The same pairs with the Java kernels of GGUF's formats. */
    PairedRowsMatrix javaKernels() {
        return new PairedRowsMatrix(javaGgml(even), javaGgml(odd));
    }

    private static WeightMatrix javaGgml(WeightMatrix m) {
        return m instanceof GgmlBlockMatrix g ? g.javaKernels() : m;
    }

    @Override
    public VectorLayout dotLayout() {
        return even.dotLayout();
    }

    @Override
    public VectorLayout decodeLayout() {
        return even.decodeLayout();
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        return ((row & 1) == 0 ? even : odd).dot(row >>> 1, x, xOffset);
    }

    /**
     * Four (gate, linear) row pairs from an even {@code row}, in one pass over both matrices where their format
     * reads eight rows side by side (GGUF's Q8_0 and ggml MXFP4 experts); otherwise row by row.
     */
    @Override
    public void dot8(int row, int stride, float[] x, int xOffset, float[] out, int outOffset) {
        if (stride == 1 && (row & 1) == 0) {
            if (even instanceof GgmlBlockMatrix e && odd instanceof GgmlBlockMatrix o) {   // one format (constructor)
                e.dot8Paired(o, row >>> 1, x, xOffset, out, outOffset);
                return;
            }
        }
        super.dot8(row, stride, x, xOffset, out, outOffset);
    }

    @Override
    public void decode(int row, int count, int col, int n, float[] dst, int dstOffset, int dstStride) {
        for (int r = 0; r < count; r++) {
            int at = row + r;
            ((at & 1) == 0 ? even : odd).decode(at >>> 1, 1, col, n, dst, dstOffset + r * dstStride, dstStride);
        }
    }

    @Override
    public double rowBytes() {
        return even.rowBytes();
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        return ((row & 1) == 0 ? even : odd).dotScalar(row >>> 1, x, xOffset);
    }
}
