package gptoss.model.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** IEEE half precision (binary16) storage, little-endian (ggml type F16). Decoding is exact. */
public final class F16Tensor extends FloatTensor {
    static final ValueLayout.OfShort LAYOUT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment data;

    public F16Tensor(MemorySegment data) {
        this.data = data;
    }

    public MemorySegment segment() {
        return data;
    }

    @Override
    public long size() {
        return data.byteSize() / 2;
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    @Override
    public float getFloat(long index) {
        return Float.float16ToFloat(data.get(LAYOUT, index * 2));
    }

    @Override
    public F16Tensor slice(long offset, long size) {
        return new F16Tensor(data.asSlice(offset * 2, size * 2));
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        return dotScalar(offset, x, xOffset, n);
    }

    /** Rounds a float to the nearest binary16 (ties to even), returning its 16 bits. */
    public static short fromFloat(float value) {
        return Float.floatToFloat16(value);
    }
}
