package gptoss.model.tensor;

import gptoss.model.InvalidModelException;
import gptoss.model.safetensors.DType;
import gptoss.model.safetensors.TensorEntry;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * MXFP4 storage (OCP MX v1.0 as OpenAI ships it, spec §3.1): the last (input) dimension is cut into blocks of
 * 32 values; each block is 16 bytes of FP4 E2M1 codes plus one E8M0 scale byte. Byte j of a block holds element
 * 2j in its low nibble and element 2j+1 in its high nibble; value = FP4[code] · 2^(scale − 127).
 * Because blocks run along the last dimension, element i lives in block i/32 whatever the leading shape is.
 */
public final class Mxfp4Tensor extends FloatTensor {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 16;
    /** FP4 E2M1 code → value. */
    public static final float[] FP4 = {
            +0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
            -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
    /** E8M0 byte → 2^(byte − 127); byte 255 (NaN in OCP) maps to NaN. */
    public static final float[] E8M0 = new float[256];

    static {
        for (int e = 0; e < 255; e++) E8M0[e] = Math.scalb(1.0f, e - 127);
        E8M0[255] = Float.NaN;
    }

    private final MemorySegment blocks; // [..., K/32, 16] u8
    private final MemorySegment scales; // [..., K/32] u8

    public Mxfp4Tensor(MemorySegment blocks, MemorySegment scales) {
        if (blocks.byteSize() != scales.byteSize() * BLOCK_BYTES) {
            throw new IllegalArgumentException("MXFP4: " + blocks.byteSize() + " block bytes for " + scales.byteSize() + " scales");
        }
        this.blocks = blocks;
        this.scales = scales;
    }

    /**
     * Pairs a {@code *_blocks} tensor [..., G, 16] with its {@code *_scales} tensor [..., G].
     */
    public static Mxfp4Tensor of(TensorEntry blocks, TensorEntry scales) {
        if (blocks.dtype() != DType.U8) throw new InvalidModelException(blocks.where() + ": dtype " + blocks.dtype() + " where U8 MXFP4 blocks are expected");
        if (scales.dtype() != DType.U8) throw new InvalidModelException(scales.where() + ": dtype " + scales.dtype() + " where U8 MXFP4 scales are expected");
        long[] b = blocks.shape(), s = scales.shape();
        boolean ok = b.length == s.length + 1 && b[b.length - 1] == BLOCK_BYTES;
        for (int i = 0; ok && i < s.length; i++) ok = b[i] == s[i];
        if (!ok) {
            throw new InvalidModelException(blocks.where() + ": shape " + blocks.shapeString() + " does not match scales "
                    + scales.shapeString() + " (expected [..., G, 16] and [..., G])");
        }
        return new Mxfp4Tensor(blocks.data(), scales.data());
    }

    public MemorySegment blocks() {
        return blocks;
    }

    public MemorySegment scales() {
        return scales;
    }

    /** A view of {@code size} elements from {@code offset}; both must be multiples of 32 (e.g. one expert). */
    @Override
    public Mxfp4Tensor slice(long offset, long size) {
        if (offset % BLOCK != 0 || size % BLOCK != 0) throw new IllegalArgumentException("MXFP4 slice must be block aligned");
        long firstBlock = offset / BLOCK, count = size / BLOCK;
        return new Mxfp4Tensor(blocks.asSlice(firstBlock * BLOCK_BYTES, count * BLOCK_BYTES), scales.asSlice(firstBlock, count));
    }

    @Override
    public long size() {
        return scales.byteSize() * BLOCK;
    }

    @Override
    public long byteSize() {
        return blocks.byteSize() + scales.byteSize();
    }

    @Override
    public float getFloat(long index) {
        long block = index >>> 5;
        int k = (int) (index & 31);
        int b = blocks.get(ValueLayout.JAVA_BYTE, block * BLOCK_BYTES + (k >>> 1)) & 0xFF;
        int code = (k & 1) == 0 ? (b & 0x0F) : (b >>> 4);
        return FP4[code] * E8M0[scales.get(ValueLayout.JAVA_BYTE, block) & 0xFF];
    }

    /** Block-wise dot product: the 32 FP4 products of a block are summed, then scaled once. */
    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        if ((offset & 31) != 0 || (n & 31) != 0) return dotScalar(offset, x, xOffset, n);
        long block = offset >>> 5;
        int count = n >>> 5;
        float sum = 0f;
        for (int g = 0; g < count; g++, block++) {
            long base = block * BLOCK_BYTES;
            int xi = xOffset + g * BLOCK;
            float blockSum = 0f;
            for (int j = 0; j < BLOCK_BYTES; j++) {
                int b = blocks.get(ValueLayout.JAVA_BYTE, base + j) & 0xFF;
                blockSum += FP4[b & 0x0F] * x[xi + 2 * j] + FP4[b >>> 4] * x[xi + 2 * j + 1];
            }
            sum += blockSum * E8M0[scales.get(ValueLayout.JAVA_BYTE, block) & 0xFF];
        }
        return sum;
    }
}
