package gptoss.model.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** float32 storage, little-endian. */
public final class F32Tensor extends FloatTensor {
    private static final ValueLayout.OfFloat LAYOUT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private final MemorySegment data;

    public F32Tensor(MemorySegment data) {
        this.data = data;
    }

    public MemorySegment segment() {
        return data;
    }

    @Override
    public long size() {
        return data.byteSize() / 4;
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    @Override
    public float getFloat(long index) {
        return data.get(LAYOUT, index * 4);
    }

    @Override
    public F32Tensor slice(long offset, long size) {
        return new F32Tensor(data.asSlice(offset * 4, size * 4));
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int lanes = F.length();
        int upper = n - n % lanes;
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < upper; i += lanes) {
            FloatVector w = FloatVector.fromMemorySegment(F, data, (offset + i) * 4, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(F, x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += getFloat(offset + i) * x[xOffset + i];
        return sum;
    }
}
