package gptoss.model.tensor;

/**
 * Two tensors of equal shape [R, n] seen as one [2R, n] whose even rows come from {@code even} and odd rows from
 * {@code odd}: row 2r is even's row r, row 2r+1 is odd's row r. GGUF stores gpt-oss's gate and up projections
 * (and their biases) as separate tensors where the OpenAI layout interleaves them; this presents them in the
 * interleaved order {@link gptoss.model.checkpoint.LayerWeights#mlp1} is defined in, without copying.
 */
public final class InterleavedRowsTensor extends FloatTensor {
    private final FloatTensor even;
    private final FloatTensor odd;
    private final long rowLength;

    public InterleavedRowsTensor(FloatTensor even, FloatTensor odd, long rowLength) {
        if (even.size() != odd.size() || rowLength <= 0 || even.size() % rowLength != 0) {
            throw new IllegalArgumentException("interleaved rows: sizes " + even.size() + " and " + odd.size() + " with rows of " + rowLength);
        }
        this.even = even;
        this.odd = odd;
        this.rowLength = rowLength;
    }

    public FloatTensor even() {
        return even;
    }

    public FloatTensor odd() {
        return odd;
    }

    public long rowLength() {
        return rowLength;
    }

    @Override
    public long size() {
        return 2 * even.size();
    }

    @Override
    public long byteSize() {
        return even.byteSize() + odd.byteSize();
    }

    @Override
    public float getFloat(long index) {
        long row = index / rowLength, col = index - row * rowLength;
        return ((row & 1) == 0 ? even : odd).getFloat((row >>> 1) * rowLength + col);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        long row = offset / rowLength, col = offset - row * rowLength;
        if (col + n > rowLength) return dotScalar(offset, x, xOffset, n);
        return ((row & 1) == 0 ? even : odd).dot((row >>> 1) * rowLength + col, x, xOffset, n);
    }

    /** A view of whole row pairs: {@code offset} and {@code size} must be multiples of two rows. */
    @Override
    public InterleavedRowsTensor slice(long offset, long size) {
        long pair = 2 * rowLength;
        if (offset % pair != 0 || size % pair != 0) throw new IllegalArgumentException("interleaved slice must cover whole row pairs");
        return new InterleavedRowsTensor(even.slice(offset / 2, size / 2), odd.slice(offset / 2, size / 2), rowLength);
    }
}
