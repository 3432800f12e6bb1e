package gptoss.model.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * ggml Q8_0 storage: blocks of 32 consecutive values along a row, each 34 bytes: an fp16 scale d (little-endian)
 * then 32 signed bytes q; value i of a block = d · q[i], computed in fp32 from the exactly decoded d (ggml's
 * {@code dequantize_row_q8_0}). Decoding is exact: d·q needs at most 11 + 8 significant bits.
 */
public final class Q8_0Tensor extends FloatTensor {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 34;
    private static final ValueLayout.OfShort SCALE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment data; // [..., K/32] blocks of {f16 d, i8 q[32]}

    public Q8_0Tensor(MemorySegment data) {
        if (data.byteSize() % BLOCK_BYTES != 0) throw new IllegalArgumentException("Q8_0: " + data.byteSize() + " bytes is not whole blocks");
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

    /** The scale of block {@code block}. */
    public float scale(long block) {
        return Float.float16ToFloat(data.get(SCALE, block * BLOCK_BYTES));
    }

    @Override
    public float getFloat(long index) {
        long block = index >>> 5;
        int q = data.get(ValueLayout.JAVA_BYTE, block * BLOCK_BYTES + 2 + (index & 31));
        return scale(block) * q;
    }

    /** A view of {@code size} elements from {@code offset}; both must be multiples of 32. */
    @Override
    public Q8_0Tensor slice(long offset, long size) {
        if (offset % BLOCK != 0 || size % BLOCK != 0) throw new IllegalArgumentException("Q8_0 slice must be block aligned");
        return new Q8_0Tensor(data.asSlice(offset / BLOCK * BLOCK_BYTES, size / BLOCK * BLOCK_BYTES));
    }

    /** Block-wise: the 32 products q·x of a block are summed, then scaled once by d. */
    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        if ((offset & 31) != 0 || (n & 31) != 0) return dotScalar(offset, x, xOffset, n);
        float sum = 0f;
        long block = offset >>> 5;
        for (int g = 0; g < n >>> 5; g++, block++) {
            long base = block * BLOCK_BYTES + 2;
            int xi = xOffset + g * BLOCK;
            float s = 0f;
            for (int i = 0; i < BLOCK; i++) s += data.get(ValueLayout.JAVA_BYTE, base + i) * x[xi + i];
            sum += s * scale(block);
        }
        return sum;
    }

    /**
     * Quantizes 32 floats as ggml's reference {@code quantize_row_q8_0_ref} does: d = max|v| / 127 (stored as
     * fp16), q = round(v / d) half away from zero; writes the 34-byte block at {@code out[outOffset]}.
     */
    public static void quantizeBlock(float[] v, int from, MemorySegment out, long outOffset) {
        float amax = 0f;
        for (int i = 0; i < BLOCK; i++) amax = Math.max(amax, Math.abs(v[from + i]));
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        out.set(SCALE, outOffset, Float.floatToFloat16(d));
        for (int i = 0; i < BLOCK; i++) {
            float scaled = v[from + i] * id;
            long q = (long) Math.copySign(Math.floor(Math.abs((double) scaled) + 0.5), scaled); // C roundf
            out.set(ValueLayout.JAVA_BYTE, outOffset + 2 + i, (byte) q);
        }
    }
}
