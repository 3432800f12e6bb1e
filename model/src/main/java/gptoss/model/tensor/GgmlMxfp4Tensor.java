package gptoss.model.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * MXFP4 in ggml's layout (GGUF type 39, spec §3.5): blocks of 32 consecutive values along a row, each 17 bytes:
 * the E8M0 exponent byte e first, then 16 bytes qs where qs[j] holds value j in its low nibble and value j+16 in
 * its high nibble. ggml decodes with a doubled table {0,1,2,3,4,6,8,12,…} and the half scale 2^(e−128); that is
 * the same number as OpenAI's FP4[code]·2^(e−127), which is how it is decoded here (exactly).
 */
public final class GgmlMxfp4Tensor extends FloatTensor {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 17;
    /** ggml's {@code kvalues_mxfp4}: twice the E2M1 values. */
    public static final int[] KVALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    private final MemorySegment data; // [..., K/32] blocks of {u8 e, u8 qs[16]}

    public GgmlMxfp4Tensor(MemorySegment data) {
        if (data.byteSize() % BLOCK_BYTES != 0) throw new IllegalArgumentException("MXFP4: " + data.byteSize() + " bytes is not whole 17-byte blocks");
        this.data = data;
    }

    public MemorySegment segment() {
        return data;
    }

    @Override
    public long size() {
        return data.byteSize() / BLOCK_BYTES * BLOCK;
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    /** The 4-bit code of element {@code index}. */
    public int code(long index) {
        long block = index >>> 5;
        int k = (int) (index & 31);
        int b = data.get(ValueLayout.JAVA_BYTE, block * BLOCK_BYTES + 1 + (k & 15)) & 0xFF;
        return k < 16 ? b & 0x0F : b >>> 4;
    }

    /** The E8M0 byte of block {@code block}. */
    public int exponent(long block) {
        return data.get(ValueLayout.JAVA_BYTE, block * BLOCK_BYTES) & 0xFF;
    }

    @Override
    public float getFloat(long index) {
        return Mxfp4Tensor.FP4[code(index)] * Mxfp4Tensor.E8M0[exponent(index >>> 5)];
    }

    /** A view of {@code size} elements from {@code offset}; both must be multiples of 32 (e.g. one expert). */
    @Override
    public GgmlMxfp4Tensor slice(long offset, long size) {
        if (offset % BLOCK != 0 || size % BLOCK != 0) throw new IllegalArgumentException("MXFP4 slice must be block aligned");
        return new GgmlMxfp4Tensor(data.asSlice(offset / BLOCK * BLOCK_BYTES, size / BLOCK * BLOCK_BYTES));
    }

    /** Block-wise dot product: the 32 FP4 products of a block are summed, then scaled once. */
    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        if ((offset & 31) != 0 || (n & 31) != 0) return dotScalar(offset, x, xOffset, n);
        long block = offset >>> 5;
        float sum = 0f;
        for (int g = 0; g < n >>> 5; g++, block++) {
            long base = block * BLOCK_BYTES + 1;
            int xi = xOffset + g * BLOCK;
            float s = 0f;
            for (int j = 0; j < 16; j++) {
                int b = data.get(ValueLayout.JAVA_BYTE, base + j) & 0xFF;
                s += Mxfp4Tensor.FP4[b & 0x0F] * x[xi + j] + Mxfp4Tensor.FP4[b >>> 4] * x[xi + j + 16];
            }
            sum += s * Mxfp4Tensor.E8M0[exponent(block)];
        }
        return sum;
    }
}
