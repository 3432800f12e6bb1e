package gptoss.bench;

import gptoss.model.memory.HugePages;
import gptoss.model.tensor.Bf16Tensor;
import gptoss.model.tensor.FloatTensor;
import gptoss.model.tensor.GgmlMxfp4Tensor;
import gptoss.model.tensor.Mxfp4Tensor;
import gptoss.model.tensor.Q8_0Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Random weights off the heap, in the value ranges of real checkpoints (no denormals, NaNs or infinities), in 2 MiB
 * pages where the system has them, as the engine maps checkpoints.
 */
final class RandomWeights {
    private RandomWeights() {
    }

    /** A tensor of {@code elements} in {@code format} ("bf16", "mxfp4", or GGUF's "q8_0" and "ggml-mxfp4"). */
    static FloatTensor tensor(String format, Arena arena, long elements, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return switch (format) {
            case "bf16" -> {
                MemorySegment s = HugePages.allocate(elements * 2, arena);
                ValueLayout.OfLong word = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
                for (long i = 0; i < elements * 2; i += 8) {
                    long w = 0;
                    for (int j = 0; j < 4; j++) w |= (long) (0x3A00 + random.nextInt(0x800) | (random.nextBoolean() ? 0x8000 : 0)) << (16 * j);
                    s.set(word, i, w);
                }
                yield new Bf16Tensor(s);
            }
            case "mxfp4" -> {
                long blocks = elements / Mxfp4Tensor.BLOCK;
                MemorySegment codes = HugePages.allocate(blocks * 16, arena), scales = HugePages.allocate(blocks, arena);
                for (long i = 0; i < blocks * 16; i += 8) codes.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
                for (long i = 0; i < blocks; i++) scales.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(118, 126));
                yield new Mxfp4Tensor(codes, scales);
            }
            case "q8_0" -> {
                long blocks = elements / Q8_0Tensor.BLOCK;
                MemorySegment s = HugePages.allocate(blocks * Q8_0Tensor.BLOCK_BYTES, arena);
                ValueLayout.OfShort half = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
                for (long b = 0; b < blocks; b++) {
                    long p = b * Q8_0Tensor.BLOCK_BYTES;
                    s.set(half, p, Float.floatToFloat16((float) (0.0005 + 0.002 * random.nextDouble())));
                    for (int i = 0; i < 32; i += 8) s.set(ValueLayout.JAVA_LONG_UNALIGNED, p + 2 + i, random.nextLong());
                }
                yield new Q8_0Tensor(s);
            }
            case "ggml-mxfp4" -> {
                long blocks = elements / GgmlMxfp4Tensor.BLOCK;
                MemorySegment s = HugePages.allocate(blocks * GgmlMxfp4Tensor.BLOCK_BYTES, arena);
                for (long b = 0; b < blocks; b++) {
                    long p = b * GgmlMxfp4Tensor.BLOCK_BYTES;
                    s.set(ValueLayout.JAVA_BYTE, p, (byte) random.nextInt(118, 126));
                    s.set(ValueLayout.JAVA_LONG_UNALIGNED, p + 1, random.nextLong());
                    s.set(ValueLayout.JAVA_LONG_UNALIGNED, p + 9, random.nextLong());
                }
                yield new GgmlMxfp4Tensor(s);
            }
            default -> throw new IllegalArgumentException("format " + format);
        };
    }

    static float[] gaussian(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }
}
