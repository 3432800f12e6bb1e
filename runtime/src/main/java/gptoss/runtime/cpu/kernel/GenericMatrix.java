package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.FloatTensor;

/** Any storage format through {@link FloatTensor#getFloat}, in scalar code: the fallback and the reference. */
final class GenericMatrix extends WeightMatrix {
    private final FloatTensor tensor;
    private final long offset;

    GenericMatrix(FloatTensor tensor, long offset, int rows, int cols) {
        super(rows, cols);
        this.tensor = tensor;
        this.offset = offset;
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
        // The documented order in scalar code: element k to lane k mod L by a fused multiply-add, then the fold.
        long first = offset + (long) row * cols;
        float[] lanes = new float[Lanes.L];
        for (int k = 0; k < cols; k++) lanes[k % Lanes.L] = Math.fma(tensor.getFloat(first + k), x[xOffset + k], lanes[k % Lanes.L]);
        return Lanes.sum(lanes, 0);
    }

    @Override
    public void decode(int row, int count, int col, int n, float[] dst, int dstOffset, int dstStride) {
        for (int r = 0; r < count; r++) {
            long base = offset + (long) (row + r) * cols + col;
            for (int k = 0; k < n; k++) dst[dstOffset + r * dstStride + k] = tensor.getFloat(base + k);
        }
    }

    @Override
    public double rowBytes() {
        return (double) tensor.byteSize() / tensor.size() * cols;
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        return tensor.dotScalar(offset + (long) row * cols, x, xOffset, cols);
    }
}
