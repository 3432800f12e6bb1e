package gptoss.model.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** bfloat16 storage: the upper 16 bits of an IEEE float, little-endian. Decoding is exact. */
public final class Bf16Tensor extends FloatTensor {
    static final ValueLayout.OfShort LAYOUT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    private final MemorySegment data;

    public Bf16Tensor(MemorySegment data) {
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
        return Float.intBitsToFloat(data.get(LAYOUT, index * 2) << 16);
    }

    /** A view of {@code size} elements starting at {@code offset} (e.g. the q rows of a fused qkv matrix). */
    @Override
    public Bf16Tensor slice(long offset, long size) {
        return new Bf16Tensor(data.asSlice(offset * 2, size * 2));
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int lanes = F.length();
        int upper = n - n % lanes;
        FloatVector acc = FloatVector.zero(F);
        long byteOffset = offset * 2;
        int i = 0;
        for (; i < upper; i += lanes) {
            ShortVector raw = ShortVector.fromMemorySegment(S, data, byteOffset + 2L * i, ByteOrder.LITTLE_ENDIAN);
            FloatVector w = ((IntVector) raw.convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats();
            acc = w.fma(FloatVector.fromArray(F, x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += getFloat(offset + i) * x[xOffset + i];
        return sum;
    }

    /** Rounds a float to the nearest bfloat16 (ties to even), returning its 16 bits. */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x40); // quiet NaN
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }
}
