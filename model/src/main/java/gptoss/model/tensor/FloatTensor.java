package gptoss.model.tensor;

import gptoss.model.InvalidModelException;
import gptoss.model.safetensors.TensorEntry;

/**
 * A read-only tensor of real numbers in some storage format, addressed by flat (row-major) element index.
 * Each format has a scalar {@link #getFloat} (the definition) and a vectorised {@link #dot} (the fast path);
 * the two agree to float rounding. Weights are views of memory-mapped files: nothing is copied to the heap.
 */
public abstract sealed class FloatTensor permits Bf16Tensor, F32Tensor, Mxfp4Tensor,
        F16Tensor, Q8_0Tensor, GgmlMxfp4Tensor, InterleavedRowsTensor {

    /** Number of logical elements. */
    public abstract long size();

    /** Element {@code index}, decoded exactly to float. */
    public abstract float getFloat(long index);

    /** {@code Σ_i this[offset + i] · x[xOffset + i]} for {@code i < n}, vectorised. */
    public abstract float dot(long offset, float[] x, int xOffset, int n);

    /** The same sum as {@link #dot}, one element at a time (the reference the fast path is tested against). */
    public float dotScalar(long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) sum += getFloat(offset + i) * x[xOffset + i];
        return sum;
    }

    /** A view of {@code size} elements starting at {@code offset}, sharing the storage. */
    public abstract FloatTensor slice(long offset, long size);

    /** Bytes of storage this tensor occupies. */
    public abstract long byteSize();

    /** Wraps a BF16 or F32 safetensors entry (MXFP4 needs two entries: see {@link Mxfp4Tensor#of}). */
    public static FloatTensor of(TensorEntry entry) {
        return switch (entry.dtype()) {
            case BF16 -> new Bf16Tensor(entry.data());
            case F32 -> new F32Tensor(entry.data());
            default -> throw new InvalidModelException(entry.where() + ": dtype " + entry.dtype()
                    + " where BF16 or F32 is expected");
        };
    }

    /** Copies {@code n} elements from {@code offset} into {@code out} (for small vectors such as one embedding row). */
    public void copyTo(long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) out[outOffset + i] = getFloat(offset + i);
    }
}
