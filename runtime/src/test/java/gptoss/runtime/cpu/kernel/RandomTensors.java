package gptoss.runtime.cpu.kernel;

import gptoss.model.tensor.Bf16Tensor;
import gptoss.model.tensor.Mxfp4Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/** Random weight tensors in off-heap memory, as a memory-mapped checkpoint would hold them. */
final class RandomTensors {
    private RandomTensors() {
    }

    static Bf16Tensor bf16(Arena arena, long elements, SplittableRandom random) {
        MemorySegment s = arena.allocate(elements * 2, 64);
        for (long i = 0; i < elements; i++) {
            s.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2 * i,
                    Bf16Tensor.fromFloat((float) random.nextGaussian()));
        }
        return new Bf16Tensor(s);
    }

    /** Random FP4 codes with scale bytes in [118, 130] (real checkpoints use about 115..130). */
    static Mxfp4Tensor mxfp4(Arena arena, long elements, SplittableRandom random) {
        long blocks = elements / Mxfp4Tensor.BLOCK;
        MemorySegment codes = arena.allocate(blocks * 16, 64), scales = arena.allocate(blocks, 64);
        for (long i = 0; i < blocks * 16; i++) codes.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
        for (long i = 0; i < blocks; i++) scales.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(118, 131));
        return new Mxfp4Tensor(codes, scales);
    }

    static float[] gaussian(int n, SplittableRandom random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    /**
     * Bound on the difference between two fp32 sums of the same n products in different orders:
     * a few n·ε times the sum of their magnitudes.
     */
    static float sumTolerance(float absSum, int n) {
        return 4f * n * Math.ulp(1f) * absSum + 1e-30f;
    }
}
